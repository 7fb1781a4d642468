import type { SessionInfo } from "../session";
import type { EffectiveSetting, Finding } from "../settings-check";
import { CsrfField, Layout, Notice, Time } from "./layout";

const LABEL = { ok: "OK", warn: "Check", problem: "Fix" } as const;

export function SettingsPage(props: {
  csrf: string;
  findings: Finding[];
  effective: EffectiveSetting[] | null;
  sessions?: SessionInfo[];
  /** This browser's session (its key). */
  current?: string;
  notice?: string;
  now?: number;
}) {
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

      {props.sessions && <Sessions sessions={props.sessions} current={props.current} csrf={props.csrf} notice={props.notice} now={props.now ?? Date.now()} />}
    </Layout>
  );
}

/** What "revoke" said, by a known word (never reflected text). */
const SESSION_NOTICES: Record<string, { kind: "ok" | "error"; text: string }> = {
  revoked: { kind: "ok", text: "Session revoked: that browser is signed out." },
  "revoke-gone": { kind: "error", text: "That session had already ended." },
};

/** Active sessions (README, "Dashboard" → "How a session works"): each can be revoked, or all at once. */
function Sessions(props: { sessions: SessionInfo[]; current?: string; csrf: string; notice?: string; now: number }) {
  const notice = props.notice ? SESSION_NOTICES[props.notice] : undefined;
  return (
    <section class="card sessions" id="sessions">
      <h2>Active sessions</h2>
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <p class="muted small">
        Every browser signed in to this dashboard. A session ends when it is signed out or revoked here, 8 hours after sign-in, or when the API token it was
        started with is no longer API_TOKEN or API_TOKEN_NEXT.
      </p>
      <table class="session-list">
        <thead>
          <tr>
            <th>Browser</th>
            <th>Address</th>
            <th>Signed in</th>
            <th>Last seen</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {props.sessions.map((s) => (
            <tr data-session={s.key} data-current={s.key === props.current ? "true" : undefined}>
              <td data-label="Browser" class="wrap">
                {s.userAgent || <span class="muted">(no user agent)</span>}
                {s.key === props.current && <strong>{" (this browser)"}</strong>}
              </td>
              <td data-label="Address" class="mono">
                {s.address}
              </td>
              <td data-label="Signed in">
                <Time at={new Date(s.createdAt).toISOString()} now={props.now} />
              </td>
              <td data-label="Last seen">
                <Time at={new Date(s.lastSeen).toISOString()} now={props.now} />
              </td>
              <td>
                <form
                  method="post"
                  action="/settings/sessions/revoke"
                  class="inline"
                  data-confirm={s.key === props.current ? "Revoke this browser's own session? You will be signed out." : undefined}
                >
                  <CsrfField token={props.csrf} />
                  <input type="hidden" name="session" value={s.key} />
                  <button type="submit" class="secondary">
                    Revoke
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action="/sign-out-everywhere" class="inline" data-confirm="Sign out every browser, this one included?">
        <CsrfField token={props.csrf} />
        <button type="submit" class="danger">
          Sign out everywhere
        </button>
      </form>
    </section>
  );
}
