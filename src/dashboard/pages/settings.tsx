import type { EffectiveSetting, Finding } from "../settings-check";
import { Layout } from "./layout";

const LABEL = { ok: "OK", warn: "Check", problem: "Fix" } as const;

export function SettingsPage(props: { csrf: string; findings: Finding[]; effective: EffectiveSetting[] | null }) {
  const problems = props.findings.filter((f) => f.level !== "ok").length;
  return (
    <Layout title="Settings" csrf={props.csrf} nav="settings">
      <h1>Settings check</h1>
      <p class="muted">
        {problems === 0 ? "Nothing missing or unsafe for production." : `${problems} setting${problems === 1 ? "" : "s"} to look at before production.`}
      </p>
      <ul class="findings">
        {props.findings.map((f) => (
          <li class={`finding level-${f.level}`} data-setting={f.name} data-level={f.level}>
            <span class={`badge level-${f.level}`}>{LABEL[f.level]}</span>
            <div>
              <strong class="mono">{f.name}</strong> — {f.message}
              {f.fix && <div class="fix">{f.fix}</div>}
            </div>
          </li>
        ))}
      </ul>

      {props.effective && (
        <section class="card effective">
          <h2>Effective settings</h2>
          <p class="muted small">
            What this deployment runs with, defaults included (secrets are never shown). Plain settings are [vars] in wrangler.toml; see README, Configuration.
          </p>
          <dl class="fields">
            {props.effective.map((s) => (
              <>
                <dt class="mono">{s.name}</dt>
                <dd data-effective={s.name}>
                  <span class="mono wrap">{s.value}</span>
                  {s.note && <span class="muted">{` — ${s.note}`}</span>}
                </dd>
              </>
            ))}
          </dl>
        </section>
      )}
    </Layout>
  );
}
