/**
 * Verifies a connect `device` block (protocol-openclaw.md §2.3): the id is the hex SHA-256 of the raw Ed25519
 * key, the signature covers the v3 payload (or v2, as openclaw-node signs), the nonce is this connection's
 * challenge nonce, and `signedAt` is within the allowed skew.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { ErrorName } from '../protocol/errors.js';
import type { ConnectDevice, ConnectParams } from '../protocol/methods/connect.js';

/** Largest difference between the device's `signedAt` and the gateway clock, in ms. */
export const DEVICE_SIGNATURE_SKEW_MS = 120_000;

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function fromBase64Url(value: string): Buffer {
  return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function publicKeyOf(raw: Buffer): KeyObject | undefined {
  if (raw.length !== 32) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

function normalizeMeta(value: string | undefined): string {
  return (value ?? '').trim().toLowerCase();
}

/** The payloads a client may have signed, newest format first. */
export function signaturePayloads(device: ConnectDevice, params: ConnectParams, role: string, nonce: string): string[] {
  const token = params.auth?.token ?? params.auth?.deviceToken ?? params.auth?.bootstrapToken ?? '';
  const scopes = (params.scopes ?? []).join(',');
  const base = [device.id, params.client.id, params.client.mode, role, scopes, String(device.signedAt), token, nonce];
  return [
    ['v3', ...base, normalizeMeta(params.client.platform), normalizeMeta(params.client.deviceFamily)].join('|'),
    ['v2', ...base].join('|'),
  ];
}

export type DeviceCheck = { ok: true } | { ok: false; error: ErrorName; reason: string };

export function verifyDevice(params: ConnectParams, role: string, nonce: string, now: number): DeviceCheck {
  const device = params.device;
  if (device === undefined) return { ok: true };
  const raw = fromBase64Url(device.publicKey);
  if (createHash('sha256').update(raw).digest('hex') !== device.id) {
    return { ok: false, error: 'DEVICE_AUTH_DEVICE_ID_MISMATCH', reason: 'device-id-mismatch' };
  }
  if (!Number.isFinite(device.signedAt) || Math.abs(now - device.signedAt) > DEVICE_SIGNATURE_SKEW_MS) {
    return { ok: false, error: 'DEVICE_AUTH_SIGNATURE_EXPIRED', reason: 'device-signature-stale' };
  }
  if (device.nonce.trim() === '') return { ok: false, error: 'DEVICE_AUTH_NONCE_REQUIRED', reason: 'device-nonce-missing' };
  if (device.nonce.trim() !== nonce) return { ok: false, error: 'DEVICE_AUTH_NONCE_MISMATCH', reason: 'device-nonce-mismatch' };
  const key = publicKeyOf(raw);
  if (key === undefined) return { ok: false, error: 'DEVICE_AUTH_PUBLIC_KEY_INVALID', reason: 'device-public-key' };
  const signature = fromBase64Url(device.signature);
  const signed = signaturePayloads(device, params, role, nonce).some((payload) => {
    try {
      return verify(null, Buffer.from(payload, 'utf8'), key, signature);
    } catch {
      return false;
    }
  });
  return signed ? { ok: true } : { ok: false, error: 'DEVICE_AUTH_SIGNATURE_INVALID', reason: 'device-signature' };
}
