import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM for the api: /ready turns 503 at once (load balancers stop sending), new connections are
 * refused after SHUTDOWN_DELAY_MS, requests in flight (uploads) get up to SHUTDOWN_GRACE_MS to
 * finish, then remaining connections are cut. Workers and Redis close after this (onApplicationShutdown).
 */
@Injectable()
export class DrainService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DrainService.name);
  draining = false;
  private inFlight = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  readonly track = (_req: Request, res: Response, next: NextFunction): void => {
    // Draining: a keep-alive client is told to take its next request elsewhere.
    if (this.draining) res.setHeader('Connection', 'close');
    this.inFlight++;
    res.once('close', () => this.inFlight--);
    next();
  };

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.draining = true;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    this.logger.log(`${signal ?? 'shutdown'}: draining (${this.inFlight} request(s) in flight)`);
    if (this.config.shutdownDelayMs) await sleep(this.config.shutdownDelayMs);
    server.close();
    const deadline = Date.now() + this.config.shutdownGraceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(50);
    if (this.inFlight > 0) this.logger.warn(`cutting ${this.inFlight} request(s) still running after the grace period`);
    server.closeAllConnections();
  }
}
