// What the ACME service knows about one EdgionAcme, as the translator turns it into the resource's
// status and the snapshot's HTTP-01 challenges.

export type AcmePhase = 'Pending' | 'Issuing' | 'Ready' | 'Renewing' | 'Failed';

export interface AcmeChallengeState {
  domain: string;
  token: string;
  keyAuthorization: string;
  /** Unix seconds. */
  expireAt: number;
}

export interface AcmeState {
  phase: AcmePhase;
  message?: string;
  certificateSerial?: string;
  certificateNotAfter?: string;
  lastRenewalTime?: string;
  lastFailureReason?: string;
  lastFailureTime?: string;
  nextCheckTime?: string;
  secretName?: string;
  secretNamespace?: string;
  edgionTlsName?: string;
  accountUri?: string;
  /** HTTP-01 challenges being validated right now. */
  challenges: AcmeChallengeState[];
}

/** Labels on everything the ACME service creates (tls.md §7.2). */
export const ACME_LABELS = (acmeName: string) => ({ 'edgion.io/acme-resource': acmeName, 'edgion.io/managed-by': 'edgion-acme' });
