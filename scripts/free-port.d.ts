/** A TCP port on 127.0.0.1 that is free when we look. */
export function freeLoopbackPort(): Promise<number>;
