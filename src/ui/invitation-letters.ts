import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { button as brandButton, greeting, wrap, type Letter } from './letters.js';

/** Who invites, where, as what: every invitation message names the portal and the inviting admin. */
export interface InvitationFacts {
  portal: string;
  inviter: string;
  role: 'admin' | 'employee';
  /** The login of the account the message goes to (existing, or prepared for the invitation). */
  login: string;
  link: string;
  /** The invitee's name, greeted when known. */
  name?: string | null;
  /** The portal's own colour (`portals.color`), if it has one. */
  color?: string | null;
}

/**
 * To an existing passport: an invitation to accept while signed in (SPEC §5, rule 22). It talks about an
 * invitation, says nothing changes without consent, and holds one `/invitations/<token>` link.
 */
export function invitationLetter(lang: Locale, facts: InvitationFacts): Letter {
  return letter(lang, facts, 'mail.invitation.howTo', 'mail.invitation.action', 'mail.invitation.validity', 'mail.invitation.ignore');
}

/** To a contact nobody has: the account prepared for the invitation, and a link to set its first password. */
export function newAccountInvitationLetter(lang: Locale, facts: InvitationFacts): Letter {
  return letter(lang, facts, 'mail.invitation.new.howTo', 'mail.invitation.new.action', 'mail.invitation.new.validity', 'mail.invitation.new.ignore');
}

function letter(
  lang: Locale,
  facts: InvitationFacts,
  howTo: 'mail.invitation.howTo' | 'mail.invitation.new.howTo',
  action: 'mail.invitation.action' | 'mail.invitation.new.action',
  validity: 'mail.invitation.validity' | 'mail.invitation.new.validity',
  ignore: 'mail.invitation.ignore' | 'mail.invitation.new.ignore',
): Letter {
  const t = translator(lang);
  const { portal, inviter, login, link } = facts;
  const body = t('mail.invitation.body', { inviter, portal, role: t(`invitation.role.${facts.role}`) });
  const text = [
    greeting(t, login, facts.name),
    '',
    body,
    t(howTo, { login }),
    '',
    `${t(action)}: ${link}`,
    '',
    t(validity),
    t(ignore),
    '',
    t('mail.signature'),
  ].join('\n');
  const htmlBody = html`<p>${greeting(t, login, facts.name)}</p>
<p>${body}</p>
<p>${t(howTo, { login })}</p>
${brandButton(link, t(action), facts.color)}
<p>${t(validity)}</p>
<p>${t(ignore)}</p>`;
  return { subject: t('mail.invitation.subject', { portal }), text, html: wrap(t, lang, htmlBody, portal) };
}

/** The invitation by SMS: short, with the link; `existing` says which link it is. */
export function invitationSms(lang: Locale, facts: InvitationFacts, existing: boolean): string {
  return translator(lang)(existing ? 'sms.invitation' : 'sms.invitation.new', { portal: facts.portal, inviter: facts.inviter, link: facts.link });
}
