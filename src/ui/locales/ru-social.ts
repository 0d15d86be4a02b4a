import type { enSocial } from './en-social.js';

/** Russian texts of social sign-in (seed C6), linked sign-in methods and the social recovery letter. */
export const ruSocial: Record<keyof typeof enSocial, string> = {
  'login.or': 'или',
  'social.signInWith': 'Войти через {provider}',

  'account.methods': 'Способы входа',
  'account.methods.password': 'Логин и пароль',
  'account.methods.passwordSet': 'заданы',
  'account.methods.passwordNone': 'не заданы',
  'account.methods.linkedAt': 'привязан {date}',
  'account.methods.unlink': 'Отвязать',
  'account.methods.link': 'Привязать {provider}',
  'account.methods.linked': 'Привязано. Теперь можно входить и так.',
  'account.methods.unlinked': 'Отвязано.',
  'account.methods.lastOne': 'Это ваш единственный способ входа. Сначала создайте логин и пароль или привяжите другую сеть.',
  'account.createPassword': 'Создать логин и пароль',
  'account.createPassword.intro': 'Вы вошли через социальную сеть. Создайте логин и пароль, чтобы входить и без неё.',
  'account.createPassword.login': 'Логин',
  'account.createPassword.save': 'Создать',
  'account.createPassword.done': 'Логин и пароль заданы. Теперь можно входить с ними.',
  'account.loginUnavailable': 'Этот логин выбрать нельзя, придумайте другой.',
  'account.invalidLogin': 'Логин начинается с буквы и содержит от 2 до 64 букв, цифр, точек, дефисов или подчёркиваний.',

  'social.error.title': 'Не удалось войти через {provider}',
  'social.error.cancelled': 'Вы отменили вход в {provider} или не разрешили доступ к профилю. Попробуйте ещё раз и разрешите доступ.',
  'social.error.provider_unreachable': '{provider} не ответил вовремя. Попробуйте через несколько минут или войдите по логину и паролю.',
  'social.error.provider_error': '{provider} отказал во входе. Начните заново; если повторится, войдите по логину и паролю.',
  'social.error.state_mismatch': 'Этот вход начат не в этом браузере, и для вашей безопасности он остановлен. Начните заново со страницы входа.',
  'social.error.nonce_mismatch': 'Ответ {provider} относится не к этому входу, и для вашей безопасности вход остановлен. Начните заново.',
  'social.error.expired': 'Вход занял слишком много времени или уже использован. Начните заново со страницы входа.',
  'social.error.identity_taken': 'Этот аккаунт {provider} уже привязан к другому паспорту. Войдите через {provider}, чтобы попасть в него, или сначала отвяжите его там.',
  'social.error.email_taken':
    'Паспорт с e-mail этого аккаунта {provider} уже есть. Войдите в него (или восстановите его пароль), затем привяжите {provider} на странице «Мой профиль».',
  'social.error.no_subject': '{provider} не сообщил, кто вы. Попробуйте ещё раз или войдите другим способом.',
  'social.error.account_inactive': 'Этот аккаунт заблокирован. Обратитесь к администратору портала.',
  'social.error.again': 'Попробовать снова',
  'social.error.reason': 'Код причины: {code}',

  'mail.social.noPassword': 'У вашего аккаунта нет пароля: он зарегистрирован через {providers}.',
  'mail.social.signIn': 'Войти через {providers}',
  'mail.social.providerRecovery': 'Забыли пароль от {provider}? Восстановите его там',
  'mail.social.createPassword': 'Или создайте пароль {product}',
};
