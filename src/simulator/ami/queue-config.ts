// The queues the simulator's app_queue holds (queues.conf's static queues and members), apart from
// the actions that read them so the AMI session's hooks can name them without importing the actions.
export interface QueueMemberConfig {
  /** The member's interface (`member => PJSIP/agent1`): its Location. */
  interface: string;
  /** The member's name (default: the interface). */
  name?: string;
  penalty?: number;
  paused?: boolean;
  /** The device whose state is the member's (default: the interface). */
  stateInterface?: string;
}

export interface QueueConfig {
  name: string;
  /** queues.conf `strategy` (default ringall). */
  strategy?: string;
  /** `maxlen`, `weight`, `servicelevel` (default 0). */
  maxlen?: number;
  weight?: number;
  servicelevel?: number;
  members?: QueueMemberConfig[];
}

/** A queue as app_queue holds it: its settings and its members in its container's order. */
export interface Queue {
  config: QueueConfig;
  strategy: string;
  members: Array<Required<Omit<QueueMemberConfig, 'paused'>> & { paused: boolean; loginTime: number }>;
}
