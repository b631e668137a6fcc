/**
 * The Docker network test Kilns share. Not "kiln-test": on machines that ran an older Kiln, that one
 * exists with inter-container traffic on and may still carry the containers of a test run in flight,
 * which a Kiln now refuses (test/setup/clean-leftovers.ts removes it once nothing is attached).
 */
export const TEST_NETWORK = "kiln-test-isolated";
