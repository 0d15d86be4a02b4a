import type { enSessions } from './en-sessions.js';

/** Русские тексты сеансов (issue 13: /account/sessions, письмо о новом входе); входят в ru.ts. */
export const ruSessions: Record<keyof typeof enSessions, string> = {
  'device.on': 'на',
  'device.unknown': 'Неизвестный браузер',
  'account.sessions.link': 'Сеансы и устройства',
  'sessions.title': 'Сеансы и устройства',
  'sessions.intro': 'Все браузеры, в которых выполнен вход в ваш аккаунт. Если какой-то вам незнаком, завершите его и смените пароль.',
  'sessions.current': 'Это устройство',
  'sessions.ip': 'IP-адрес',
  'sessions.created': 'Вход',
  'sessions.lastSeen': 'Последняя активность',
  'sessions.unknownIp': 'неизвестен',
  'sessions.signOut': 'Завершить сеанс',
  'sessions.signOutOthers': 'Выйти на всех других устройствах',
  'sessions.onlyThis': 'Вход выполнен только на этом устройстве.',
  'sessions.done.one': 'Сеанс завершён.',
  'sessions.done.others': 'Выполнен выход на всех других устройствах.',
  'sessions.back': 'Вернуться в профиль',
  'mail.newSignIn.subject': 'Новый вход в аккаунт {product}',
  'mail.newSignIn.body': 'В ваш аккаунт {login} только что вошли с устройства, с которого раньше не входили.',
  'mail.newSignIn.device': 'Устройство: {device}',
  'mail.newSignIn.ip': 'IP-адрес: {ip}',
  'mail.newSignIn.when': 'Время: {when} (UTC)',
  'mail.newSignIn.ifYou': 'Если это были вы, ничего делать не нужно.',
  'mail.newSignIn.notYou': 'Если это были не вы: завершите этот сеанс на странице {url} и сразу смените пароль.',
};
