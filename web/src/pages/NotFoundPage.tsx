import { Link } from "../router.tsx";

export function NotFoundPage() {
  return (
    <div className="empty">
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. <Link to="/">Back to deployments</Link>
      </p>
    </div>
  );
}
