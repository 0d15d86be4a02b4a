import type { enProblems } from './en-problems.js';

/** Заголовки ответов API об ошибках (RFC 9457); ключи те же, что в en-problems.ts. */
export const ruProblems: Record<keyof typeof enProblems, string> = {
  'problem.invalid_credentials': 'Неверный логин или пароль',
  'problem.invalid_request': 'Запрос составлен неверно',
  'problem.weak_password': 'Пароль слишком слабый',
  'problem.invalid_token': 'Ссылка или токен недействительны',
  'problem.invalid_code': 'Код не подходит',
  'problem.code_expired': 'Срок действия кода истёк',
  'problem.too_many_attempts': 'Слишком много попыток',
  'problem.rate_limited': 'Слишком много запросов',
  'problem.forbidden': 'Доступ запрещён',
  'problem.password_change_required': 'Сначала смените пароль',
  'problem.unauthorized': 'Сначала войдите',
  'problem.second_factor_required': 'Войдите заново: шаг второго фактора не начат или истёк',
  'problem.not_found': 'Не найдено',
  'problem.last_sign_in_method': 'Это последний оставшийся способ входа',
  'problem.login_unavailable': 'Этот логин занять нельзя; выберите другой',
  'problem.edition_mismatch': 'В этой редакции недоступно',
  'problem.request_timeout': 'Запрос передавался слишком долго',
  'problem.payload_too_large': 'Тело запроса слишком большое',
  'problem.uri_too_long': 'Адрес слишком длинный',
  'problem.unsupported_media_type': 'Неподдерживаемый тип содержимого',
  'problem.headers_too_large': 'Заголовки запроса слишком большие',
  'problem.unavailable': 'Сервис временно недоступен',
  'problem.internal': 'Внутренняя ошибка',
};
