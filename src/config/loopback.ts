/** Whether an address is reachable from this machine only. */

/** 127.0.0.0/8, ::1 and localhost (any case, IPv6 with or without brackets): addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || bare === '::ffff:127.0.0.1';
}
