/** English texts of the box edition (checkword recovery, B1–B2); merged into en.ts. */
export const enBox = {
  'box.recover.title': 'Forgot your password?',
  'box.recover.intro': 'Enter your login or e-mail. We will send you a letter with a link and a checkword to set a new password.',
  'box.recover.identifier': 'Login or e-mail',
  'box.recover.submit': 'Send checkword',
  'box.recover.forgotLogin': 'Forgot your login?',
  'box.recover.forgotLoginHelp': 'Ask your portal administrator: they can see your login and set a new password for you.',
  'box.sent.title': 'Check your mail',
  'box.sent.body':
    'If an account with this login or e-mail exists, we have sent it a letter with a link and a checkword to set a new password. The link is valid for {minutes} minutes.',
  'box.sent.noMail': 'No letter? Check the spam folder, or try again in a few minutes.',

  'box.form.title': 'Change password',
  'box.form.intro': 'Enter your login and the new password twice. The checkword is filled in from the letter: do not change it.',
  'box.form.login': 'Login',
  'box.form.password': 'New password',
  'box.form.passwordConfirm': 'Confirm the new password',
  'box.form.checkword': 'Checkword',
  'box.form.submit': 'Change password',
  'box.form.wrongLogin': 'This login does not match the checkword. Check the login: it is the one the letter was sent for.',
  'box.form.mismatch': 'The new password and its confirmation do not match.',
  'box.invalid.title': 'The checkword is not valid',
  'box.invalid.body':
    'It has expired, has already been used, belongs to another login, or a newer one was sent. Ask for a new checkword.',
  'box.invalid.again': 'Send a new checkword',

  'box.mail.subject': 'Checkword to change your password on {portal}',
  'box.mail.body': 'Someone (hopefully you) asked to change the password of the account {login} on {portal}.',
  'box.mail.action': 'Change password',
  'box.mail.howTo':
    'The link opens a form with your login and the checkword filled in. Do not change the checkword: enter the new password twice and press "Change password".',
  'box.mail.validity': 'The link is valid for {minutes} minutes and works once.',
  'box.mail.ignore': 'If you did not ask for this, ignore this letter: your password stays the same.',
} as const;
