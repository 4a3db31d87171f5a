import { Controller, Get, Inject, type OnModuleInit, Param, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { ApiTextResponse } from '../http/openapi/responses';
import { dashboardCsp } from './dashboard-csp';

/**
 * Beside this file both under ts-jest (src/dashboard/) and in the build (dist/dashboard/), where
 * nest-cli.json copies `dashboard/public/**` as assets.
 */
export const DASHBOARD_PUBLIC_DIR = join(__dirname, 'public');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Everything the page loads comes from this service, and no script runs inline (issue 4: no external
 * requests; the one exception is the object store that upload sessions send parts to, see
 * dashboard-csp.ts). Downloads go through blob: URLs on <a download>, which CSP does not govern.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  // Assets are small and change with each release: revalidate (Express answers 304 on a matching ETag).
  'Cache-Control': 'no-cache',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** Plain file names only: no separators, no dot-segments, one known extension. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*\.(html|css|js|svg)$/;

/**
 * GET /dashboard and its assets, without an API key (the page asks for one). The assets are read
 * once at start into an allowlist keyed by file name, so a request can only ever name one of them:
 * no path from the URL reaches the file system.
 */
@ApiTags('service')
@Controller('dashboard')
export class DashboardController implements OnModuleInit {
  private readonly assets = new Map<string, Asset>();
  private readonly headers: Record<string, string>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.headers = { 'Content-Security-Policy': dashboardCsp(config), ...SECURITY_HEADERS };
  }

  async onModuleInit(): Promise<void> {
    for (const name of await readdir(DASHBOARD_PUBLIC_DIR)) {
      const type = CONTENT_TYPES[extname(name)];
      if (type && ASSET_NAME.test(name)) {
        this.assets.set(name, { type, body: await readFile(join(DASHBOARD_PUBLIC_DIR, name)) });
      }
    }
  }

  @Get()
  @ApiOperation({ summary: 'The validation-preview dashboard (HTML page; its assets are under /dashboard/)' })
  @ApiTextResponse(200, 'text/html', 'The page (it asks for the API key itself)')
  page(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  @Get(':asset')
  @ApiExcludeEndpoint()
  asset(@Param('asset') name: string, @Res() res: Response): void {
    this.send(res, name);
  }

  private send(res: Response, name: string): void {
    const asset = ASSET_NAME.test(name) ? this.assets.get(name) : undefined;
    if (!asset) throw new AppError('not_found', 'No such dashboard file.');
    res.set(this.headers).type(asset.type).send(asset.body);
  }
}
