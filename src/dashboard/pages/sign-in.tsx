import { Layout, Notice } from "./layout";

export function SignInPage(props: { error?: string; closed?: boolean }) {
  return (
    <Layout title="Sign in">
      <section class="card narrow">
        <h1>Sign in</h1>
        {props.closed ? (
          <Notice kind="error">The dashboard is closed until API_TOKEN is set (wrangler secret put API_TOKEN, or .dev.vars locally).</Notice>
        ) : (
          <>
            {props.error && <Notice kind="error">{props.error}</Notice>}
            <form method="post" action="/sign-in" class="stack">
              <label for="token">API token</label>
              <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
              <button type="submit">Sign in</button>
            </form>
            <p class="muted">The worker's API_TOKEN. It is exchanged for a session cookie and not kept in this page.</p>
          </>
        )}
      </section>
    </Layout>
  );
}
