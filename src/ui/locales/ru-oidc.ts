import type { enOidc } from './en-oidc.js';

/** Русские тексты страниц провайдера OpenID Connect (SPEC §10). */
export const ruOidc: Record<keyof typeof enOidc, string> = {
  'oidc.notMember.title': 'Нет доступа к приложению',
  'oidc.notMember.body': 'Это приложение портала «{portal}», а вы ({login}) не состоите в нём.',
  'oidc.notMember.hint': 'Попросите администратора портала пригласить вас или войдите под другой учётной записью.',
  'oidc.notMember.back': 'Вернуться в приложение',
  'oidc.logout.title': 'Выход',
  'oidc.logout.body': 'Приложение просит завершить ваш сеанс в {product}. Выйти?',
  'oidc.logout.confirm': 'Да, выйти',
  'oidc.logout.cancel': 'Нет, остаться',
  'oidc.logout.done': 'Вы вышли.',
  'oidc.error.title': 'Запрос приложения не выполнен',
  'oidc.error.body': 'Приложение, которое вас сюда направило, прислало запрос, который {product} не может принять ({error}). Вернитесь в него и попробуйте ещё раз или сообщите его разработчикам.',
  'oidc.continue.title': 'Вы вошли. Возвращаем вас в приложение…',
  'oidc.continue.link': 'Перейти в приложение',
};
