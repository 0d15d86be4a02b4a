import type { SocialProviderSettings } from '../config.js';
import { createOidcProvider } from './oidc.js';
import type { SocialProvider } from './provider.js';
import { createVkIdProvider } from './vk-id.js';
import { createYandexIdProvider } from './yandex-id.js';

/** The enabled providers by id, in the order their buttons appear. */
export type SocialProviders = ReadonlyMap<string, SocialProvider>;

export function createSocialProviders(settings: SocialProviderSettings[], timeoutMs: number): SocialProviders {
  const order = (s: SocialProviderSettings) => ['vk', 'yandex', 'google'].indexOf(s.id) >>> 0;
  const sorted = [...settings].sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id));
  return new Map(
    sorted.map((s): [string, SocialProvider] => [
      s.id,
      s.kind === 'vk' ? createVkIdProvider(s, timeoutMs) : s.kind === 'yandex' ? createYandexIdProvider(s, timeoutMs) : createOidcProvider(s, timeoutMs),
    ]),
  );
}
