// The sounds the simulator knows, with their lengths: what a playback of `sound:<id>` lasts and
// what GET /sounds lists.
/** A sound of the catalogue: its description, length, and the languages and formats installed. */
export interface Sound {
  text: string;
  ms: number;
  languages: string[];
  formats: string[];
}

/** Asterisk's core sounds as a stock install has them: English, GSM. */
const core = (text: string, ms: number): Sound => ({ text, ms, languages: ['en'], formats: ['gsm'] });

/** The sounds the simulator knows (a few of Asterisk's core sounds), with their lengths in ms. */
export const SOUNDS: Record<string, Sound> = {
  'hello-world': core('Hello world.', 1200),
  beep: core('A beep.', 250),
  'demo-congrats': core('Congratulations...', 11_000),
  'tt-monkeys': core('Monkeys.', 10_500),
  'tt-weasels': core('Weasels have eaten our phone system.', 3_000),
  'vm-goodbye': core('Goodbye.', 800),
  'conf-onlyperson': core('You are currently the only person in this conference.', 3_300),
  silence: core('', 1000),
};
