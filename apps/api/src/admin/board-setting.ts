import { isLoopbackHost, type Config } from '@cwo/config';
import { BULL_BOARD_PATH } from './bull-board';

type BoardConfig = Pick<Config, 'AUTH_MODE' | 'ADMIN_USER' | 'ADMIN_PASSWORD' | 'BULL_BOARD_ENABLED' | 'apiHost'>;

/**
 * Whether Bull Board is served, and to whom. `open`: with AUTH_MODE=none on a loopback address
 * and no admin user, anyone who can reach the API can already do everything through it, so the
 * board asks for nothing; `admins`: an admin API key or ADMIN_USER/ADMIN_PASSWORD. Off: `why`, one
 * line saying how to turn it on.
 */
export type BoardSetting = { on: true; access: 'open' | 'admins' } | { on: false; why: string };

export function adminBoardSetting(config: BoardConfig): BoardSetting {
  const basic = config.ADMIN_USER !== undefined && config.ADMIN_PASSWORD !== undefined;
  if (config.BULL_BOARD_ENABLED === false) {
    return {
      on: false,
      why: `Bull Board is off (BULL_BOARD_ENABLED=false); unset it or set it to true to serve it at ${BULL_BOARD_PATH}`,
    };
  }
  if (config.AUTH_MODE === 'api_key') {
    if (config.BULL_BOARD_ENABLED) return { on: true, access: 'admins' };
    return {
      on: false,
      why: `Bull Board is off: with AUTH_MODE=api_key it needs BULL_BOARD_ENABLED=true, then admins open ${BULL_BOARD_PATH} with an admin API key (pnpm admin create-key <user> --admin) or ADMIN_USER/ADMIN_PASSWORD`,
    };
  }
  if (basic) return { on: true, access: 'admins' };
  if (isLoopbackHost(config.apiHost)) return { on: true, access: 'open' };
  return {
    on: false,
    why: `Bull Board is off: AUTH_MODE=none on HOST=${config.apiHost}, which is not a loopback address; set ADMIN_USER and ADMIN_PASSWORD (basic auth), or listen on 127.0.0.1`,
  };
}
