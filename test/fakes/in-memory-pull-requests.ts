/**
 * An in-memory `PullRequestRepository` for tests of the pull-request providers, with the
 * store's contract: one pull request per (remote, head branch), numbers per remote from 1.
 */
import { localPullRequestUrl } from '../../src/store/pull-requests';
import type { PullRequestRecord, PullRequestRepository } from '../../src/store/types';

export class InMemoryPullRequests implements PullRequestRepository {
  readonly records: PullRequestRecord[] = [];

  async findByHead(remote: string, headBranch: string): Promise<PullRequestRecord | null> {
    return this.records.find((r) => r.remote === remote && r.headBranch === headBranch && r.state !== 'closed') ?? null;
  }

  async create(pr: Omit<PullRequestRecord, 'id' | 'number' | 'createdAt' | 'url'> & { url?: string }): Promise<PullRequestRecord> {
    const existing = await this.findByHead(pr.remote, pr.headBranch);
    if (existing) return existing;
    const number = this.records.filter((r) => r.remote === pr.remote).length + 1;
    const record: PullRequestRecord = {
      ...pr,
      id: `pr-${this.records.length + 1}`,
      number,
      url: pr.url ?? localPullRequestUrl(pr.remote, number),
      createdAt: new Date(),
    };
    this.records.push(record);
    return record;
  }

  async markMerged(id: string, mergeSha: string): Promise<PullRequestRecord> {
    const record = this.records.find((r) => r.id === id);
    if (!record) throw new Error(`No pull request ${id}`);
    Object.assign(record, { state: 'merged', merged: true, mergeSha, mergedAt: record.mergedAt ?? new Date() });
    return record;
  }

  async updateHead(id: string, headSha: string, stats: PullRequestRecord['stats']): Promise<PullRequestRecord | null> {
    const record = this.records.find((r) => r.id === id && r.state === 'open');
    if (!record) return null;
    Object.assign(record, { headSha, stats });
    return record;
  }

  async get(id: string): Promise<PullRequestRecord | null> {
    return this.records.find((r) => r.id === id) ?? null;
  }

  async listForTask(taskId: string): Promise<PullRequestRecord[]> {
    return this.records.filter((r) => r.taskId === taskId);
  }
}
