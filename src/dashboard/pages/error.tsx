import { Layout } from "./layout";

export function ErrorPage(props: { status: number; title: string; message: string; csrf?: string }) {
  return (
    <Layout title={props.title} csrf={props.csrf}>
      <section class="card narrow">
        <h1>{props.title}</h1>
        <p>{props.message}</p>
        <p>
          <a href="/">Back to the overview</a>
        </p>
      </section>
    </Layout>
  );
}
