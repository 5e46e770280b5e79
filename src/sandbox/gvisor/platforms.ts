/** gVisor's ways of intercepting system calls (`runsc --platform`): systrap works without KVM. */
export const RUNSC_PLATFORMS = ['systrap', 'ptrace', 'kvm'] as const;
export type RunscPlatform = (typeof RUNSC_PLATFORMS)[number];
