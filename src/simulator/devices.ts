// Device states as Asterisk's channel drivers report them (main/devicestate.c asks the driver):
// the live channels of each device, indexed so a device's state costs its own channels, not every
// call's. AMI's DeviceStateChange and ARI's DeviceStateChanged both read it.
import type { SimChannel } from './model/types.ts';

/** enum ast_device_state (devicestate.h), by the names device states carry: what AMI's hint and
 *  queue member states are computed from. */
export const DEVICE_STATE: Record<string, number> = {
  UNKNOWN: 0,
  NOT_INUSE: 1,
  INUSE: 2,
  BUSY: 3,
  INVALID: 4,
  UNAVAILABLE: 5,
  RINGING: 6,
  RINGINUSE: 7,
  ONHOLD: 8,
};

/** A channel's device: its name up to the last `-` (ast_setstate's own cut). */
export const deviceOf = (c: { name: string }) =>
  c.name.slice(0, Math.max(0, c.name.lastIndexOf('-'))) || c.name;

export class DeviceIndex {
  private devices = new Map<string, Set<string>>();

  add(c: SimChannel): void {
    const d = deviceOf(c);
    const set = this.devices.get(d) ?? new Set<string>();
    set.add(c.id);
    this.devices.set(d, set);
  }

  remove(c: SimChannel): void {
    const d = deviceOf(c);
    const set = this.devices.get(d);
    set?.delete(c.id);
    if (set?.size === 0) this.devices.delete(d);
  }

  /**
   * A device's state from its live channels. A Local device (core_local.c local_devicestate) is
   * INUSE while a pair of it is joined and its `;2` runs, else NOT_INUSE, whatever the channels'
   * states. A PJSIP device (chan_pjsip_devicestate) with no channel is UNAVAILABLE while its
   * endpoint is offline (no reachable contact), else NOT_INUSE; with channels it is what they add
   * up to (ast_state_chan2dev: Up or Ring in use, Ringing ringing, Busy busy). One pass that stops
   * as soon as the answer is known, building nothing: a device can have thousands of channels.
   */
  stateOf(device: string, channels: Map<string, SimChannel>, online: (endpoint: string) => boolean): string {
    const ids = this.devices.get(device);
    if (device.startsWith('Local/')) {
      for (const id of ids ?? []) {
        const x = channels.get(id);
        if (x?.called && x.peer && x.name.endsWith(';2') && channels.has(x.peer)) return 'INUSE';
      }
      return 'NOT_INUSE';
    }
    if (!ids?.size && device.startsWith('PJSIP/') && !online(device.slice('PJSIP/'.length)))
      return 'UNAVAILABLE';
    let inUse = false;
    let ringing = false;
    let busy = false;
    for (const id of ids ?? []) {
      const state = channels.get(id)?.state;
      if (state === 'Up' || state === 'Ring') inUse = true;
      else if (state === 'Ringing') ringing = true;
      else if (state === 'Busy') busy = true;
      if (inUse && ringing) return 'RINGINUSE';
    }
    return inUse ? 'INUSE' : ringing ? 'RINGING' : busy ? 'BUSY' : 'NOT_INUSE';
  }
}
