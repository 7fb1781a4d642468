// Every kind of provider task this worker keeps (README, "What it keeps"). Adding a kind is one
// module beside these and one line here.

import { cover } from "./cover";
import type { Kind, KindName } from "./kind";
import { lyrics } from "./lyrics";
import { midi } from "./midi";
import { music } from "./music";
import { stems } from "./stems";
import { video } from "./video";
import { wav } from "./wav";

export const KINDS: Readonly<Record<KindName, Kind>> = { wav, music, stems, video, cover, midi, lyrics };

export function kindOf(name: KindName): Kind {
  return KINDS[name];
}
