/** A refusal that retrying cannot fix (SMTP 5xx, an invalid number, an empty provider balance). */
export class PermanentDeliveryError extends Error {}
