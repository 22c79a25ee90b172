import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * A database transaction as services see it: an opaque handle they pass to repository methods, so that a
 * service can make several repositories' writes atomic without importing TypeORM itself.
 */
export interface Tx {
  readonly manager: EntityManager;
}

@Injectable()
export class UnitOfWork {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one READ COMMITTED transaction: committed when it resolves, rolled back when it throws. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work({ manager }));
  }

  /** A handle outside any transaction (each statement commits on its own). */
  get autoCommit(): Tx {
    return { manager: this.dataSource.manager };
  }
}
