// Clients (the buyers' endpoints): request and response shapes, and the row as the API shows it.
import { z } from 'zod';
import { ianaZone } from '../../platform/http/input.ts';
import type { WeeklySchedule } from '../../db/schema/routing.ts';
import { scheduleProblems } from '../decide.ts';
import type { ClientRow } from '../repository.ts';

const range = z.tuple([z.string(), z.string()]);
const schedule = z
  .partialRecord(z.enum(['0', '1', '2', '3', '4', '5', '6']), z.array(range).max(10))
  .superRefine((s, ctx) => {
    for (const p of scheduleProblems(s as WeeklySchedule)) ctx.addIssue({ code: 'custom', message: p });
  });
// A PJSIP endpoint name, or a dial string Asterisk's Dial understands (Tech/resource).
const endpoint = z
  .string()
  .trim()
  .regex(
    /^([A-Za-z0-9_.+-]{1,80}|[A-Za-z]+\/[A-Za-z0-9_.+@:-]{1,120})$/,
    'a PJSIP endpoint name or a dial string like PJSIP/1000@trunk',
  );

export const clientBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    endpoint,
    active: z.boolean().optional(),
    timezone: ianaZone.nullable().optional(),
    schedule: schedule.nullable().optional(),
    group_id: z.uuid().nullable().optional(),
  })
  .strict();
export type ClientBody = Partial<z.infer<typeof clientBody>>;
export const clientOut = z.object({
  id: z.uuid(),
  name: z.string(),
  endpoint: z.string(),
  active: z.boolean(),
  timezone: z.string().nullable(),
  schedule: z.record(z.string(), z.array(range)).nullable(),
  group_id: z.uuid().nullable(),
  created_at: z.string(),
});
export const toClient = (r: ClientRow) => ({
  id: r.id,
  name: r.name,
  endpoint: r.endpoint,
  active: r.active,
  timezone: r.timezone,
  schedule: (r.schedule ?? null) as Record<string, [string, string][]> | null,
  group_id: r.groupId,
  created_at: r.createdAt.toISOString(),
});
/** A client body as column values. */
export const clientValues = <T extends ClientBody>({ group_id, ...b }: T) => ({
  ...b,
  groupId: group_id,
  schedule: b.schedule as WeeklySchedule | null | undefined,
});
