/** Reported in heartbeat_build_info and the logs; kept in step with package.json by a unit test. */
export const VERSION = '0.1.0';
