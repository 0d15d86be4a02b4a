import { html, type SafeHtml } from './html.js';

/**
 * The product's name, logo and primary colour (settings LATCHKEY_BRAND_*, issue 14 item 12), shown by every
 * page and letter instead of a hard-coded "Latchkey". A portal's own title and colour override the colour on
 * the pages and letters that are about that portal.
 */
export interface Brand {
  name: string;
  /** An image address (https://, or http:// outside production) or an inline SVG document; none by default. */
  logo: { kind: 'url'; url: string } | { kind: 'svg'; svg: string } | undefined;
  /** `#rrggbb`: buttons, links and the active tab. */
  color: string;
}

export const DEFAULT_BRAND: Brand = { name: 'Latchkey', logo: undefined, color: '#2f6fde' };

/** `#rgb` or `#rrggbb`: nothing else can reach a style sheet or a letter's `style` attribute. */
export const BRAND_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

let current: Brand = DEFAULT_BRAND;

/**
 * Settings are per process, and so is the brand: the composition root (src/deps.ts) sets it once at start,
 * so the templates (many, edited often) need no extra parameter. Two apps with different brands in one
 * process would share the last one set; only tests build more than one app per process.
 */
export function useBrand(brand: Brand): void {
  current = brand;
}

export function currentBrand(): Brand {
  return current;
}

/** The logo as an `<img>`: an inline SVG goes in as a data: URL, so a script in it never runs (an `<img>` runs none). */
export function logoImage(brand: Brand, height: number): SafeHtml {
  if (!brand.logo) return html``;
  const src = brand.logo.kind === 'url' ? brand.logo.url : `data:image/svg+xml;base64,${Buffer.from(brand.logo.svg, 'utf8').toString('base64')}`;
  return html`<img class="logo" src="${src}" alt="" height="${height}">`;
}

/** The origin the page must be allowed to load the logo from (Content-Security-Policy img-src), if any. */
export function logoOrigin(brand: Brand): string | undefined {
  return brand.logo?.kind === 'url' ? new URL(brand.logo.url).origin : undefined;
}

/** The style sheet that paints pages in a colour: the brand's (after app.css) or a portal's (on its pages). */
export function colorCss(color: string): string {
  return `:root { --accent: ${color}; }\n`;
}
