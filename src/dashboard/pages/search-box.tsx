// The search box in every signed-in page's header (README, "Dashboard" → "Find a task"): a plain
// GET form to /search, which goes to the task when exactly one matches.

export function SearchBox(props: { q?: string }) {
  return (
    <form class="search" method="get" action="/search" role="search">
      <input
        type="search"
        name="q"
        value={props.q}
        maxlength={256}
        required
        placeholder="Task, track or music task id"
        aria-label="Find a task by its id, a track id or a music task id"
        spellcheck={false}
        autocomplete="off"
      />
      <button type="submit" class="secondary">
        Find
      </button>
    </form>
  );
}
