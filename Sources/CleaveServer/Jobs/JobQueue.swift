import CleaveCore
import Foundation
import Hummingbird

/// A background job as the API shows it.
public struct JobDTO: ResponseCodable, Equatable, Sendable {
    /// The job's id (the `{jobId}` of its routes).
    public var id: String
    /// What the job does: `cluster`, `train`, `predict` or `objects`.
    public var kind: String
    /// The image it works on, if any.
    public var imageId: String?
    /// The project it belongs to (decides who may see and cancel it).
    public var projectId: String?
    /// The request that started it, as JSON.
    public var params: JSONValue
    /// queued | running | done | failed | cancelled
    public var state: String
    /// 0…1.
    public var progress: Double
    /// What it is doing now, in words (`queued` before it starts; the pipeline's stage while running).
    public var stage: String
    /// What a finished job made, e.g. `{"predictionId": …}`; null until it is done.
    public var result: JSONValue?
    /// One line, for failed jobs.
    public var error: String?
    /// When it was submitted (ISO 8601, UTC).
    public var createdAt: String
    /// When a worker started it (ISO 8601, UTC); null while queued.
    public var startedAt: String?
    /// When it ended, whether done, failed or cancelled (ISO 8601, UTC); null before.
    public var finishedAt: String?
    /// Live figures of a running job (a U-Net's loss and validation IoU per step, for the page's
    /// chart); the last figures stay with the finished job; null for jobs without figures.
    public var metrics: JSONValue? = nil

    /// True once the job is done, failed or cancelled (its state no longer changes).
    public var isFinished: Bool { JobDTO.terminalStates.contains(state) }
    /// The states a job ends in: done, failed, cancelled.
    public static let terminalStates: Set<String> = ["done", "failed", "cancelled"]

    private enum CodingKeys: String, CodingKey {
        case id, kind, imageId, projectId, params, state, progress, stage, result, error, createdAt, startedAt, finishedAt, metrics
    }

    /// Every field is always present: docs/api.md promises `result`, `error`, `startedAt`,
    /// `finishedAt` (and the ids of jobs without an image or project) as `null` rather than missing.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(imageId, forKey: .imageId)
        try container.encode(projectId, forKey: .projectId)
        try container.encode(params, forKey: .params)
        try container.encode(state, forKey: .state)
        try container.encode(progress, forKey: .progress)
        try container.encode(stage, forKey: .stage)
        try container.encode(result, forKey: .result)
        try container.encode(error, forKey: .error)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(metrics, forKey: .metrics)
    }
}

/// Thrown by ``JobContext/checkCancelled()`` once a job has been asked to stop.
public struct JobCancelled: Error, CustomStringConvertible {
    /// The word `cancelled`, for logs and messages.
    public var description: String { "cancelled" }
}

/// What a running job sees: a ``Progress`` that feeds the job's progress and stage (and notices
/// cancellation), and ``checkCancelled()`` to stop between stages.
public final class JobContext: Sendable {
    /// The job's id.
    public let id: String
    let queue: JobQueue

    init(id: String, queue: JobQueue) { self.id = id; self.queue = queue }

    /// Progress within the whole job: stage `k` of `stages` maps the pipeline's `done/total` into
    /// `[k/stages, (k+1)/stages)`.
    public func progress(stage index: Int = 0, of stages: Int = 1) -> CleaveCore.Progress {
        let queue = self.queue, id = self.id
        return CleaveCore.Progress { done, total, stage in
            let inner = total > 0 ? min(max(Double(done) / Double(total), 0), 1) : 0
            queue.update(id: id, progress: (Double(index) + inner) / Double(max(stages, 1)), stage: stage)
        }
    }

    /// Sets the stage text and progress directly.
    public func report(_ progress: Double, _ stage: String) { queue.update(id: id, progress: progress, stage: stage) }

    /// Replaces the job's live figures (sent with the next progress event).
    public func reportMetrics(_ metrics: JSONValue) { queue.updateMetrics(id: id, metrics: metrics) }

    /// True once cancellation was asked for.
    public var isCancelled: Bool { queue.isCancelled(id) }

    /// - Throws: ``JobCancelled`` once cancellation was asked for.
    public func checkCancelled() throws { if isCancelled { throw JobCancelled() } }
}

/// Runs background jobs with bounded concurrency on their own threads (never on the server's
/// event loops or Swift's cooperative pool, which the routes need to stay responsive).
///
/// ```
/// submit ─► jobs row (queued) ─► worker thread ─► running ─► done(result) | failed(error) | cancelled
///                                    │ progress/stage: in memory, pushed to subscribers (SSE)
///                                    └ state changes: written to the database
/// ```
/// Cancellation is cooperative: ``JobContext/checkCancelled()`` between stages and in block sinks.
/// Jobs left queued or running by a crash are marked failed when the queue starts.
public final class JobQueue: @unchecked Sendable {
    /// A job's work: runs on a worker thread and returns the job's result; a thrown error fails the
    /// job with its one-line message, paths redacted (``JobCancelled`` cancels it instead).
    public typealias Work = @Sendable (JobContext) throws -> JSONValue

    private struct Live {
        var job: JobDTO
        var cancelRequested = false
        var work: Work?
        var subscribers: [UUID: AsyncStream<JobDTO>.Continuation] = [:]
        var lastPush = 0.0
    }

    private let lock = NSLock()
    private var live: [String: Live] = [:]
    private var waiting: [String] = []
    private var running = 0
    /// Jobs that may run at once (at least 1); the rest wait in submission order.
    public let concurrency: Int
    let database: WorkbenchDatabase
    let redactor: PathRedactor

    init(database: WorkbenchDatabase, concurrency: Int, redactor: PathRedactor) throws {
        self.database = database
        self.redactor = redactor
        self.concurrency = max(1, concurrency)
        try database.write { db in
            try db.execute(sql: """
                UPDATE jobs SET state = 'failed', error = 'the server stopped while the job was queued or running',
                                finished_at = ? WHERE state IN ('queued', 'running')
                """, arguments: [Workbench.now()])
        }
    }

    /// Queues a job; returns it in state `queued` (or `running` if a worker was free).
    public func submit(kind: String, imageID: String?, projectID: String?, params: JSONValue, work: @escaping Work) throws -> JobDTO {
        let job = JobDTO(id: Workbench.newID(), kind: kind, imageId: imageID, projectId: projectID, params: params,
                         state: "queued", progress: 0, stage: "queued", result: nil, error: nil,
                         createdAt: Workbench.now(), startedAt: nil, finishedAt: nil)
        try database.write { db in try db.save(job) }
        lock.lock()
        live[job.id] = Live(job: job, work: work)
        waiting.append(job.id)
        lock.unlock()
        startWorkers()
        return self.job(job.id) ?? job
    }

    /// The job, live or from the database; nil when unknown.
    public func job(_ id: String) -> JobDTO? {
        lock.lock()
        let found = live[id]?.job
        lock.unlock()
        if let found { return found }
        return try? database.read { db in try db.fetch(JobDTO.self, id) }
    }

    /// Recent jobs (newest first), optionally of one image.
    public func jobs(imageID: String?, limit: Int = 100) throws -> [JobDTO] {
        let stored = try database.read { db -> [JobDTO] in
            if let imageID {
                return try db.fetchAll(JobDTO.self, where: "image_id = ?", [imageID], orderBy: "created_at DESC", limit: limit)
            }
            return try db.fetchAll(JobDTO.self, orderBy: "created_at DESC", limit: limit)
        }
        return stored.map { job($0.id) ?? $0 }
    }

    /// The ids of queued and running jobs of any of the images or of the project.
    public func unfinished(imageIDs: Set<String>, projectID: String?) -> [String] {
        lock.lock(); defer { lock.unlock() }
        return live.values.filter { entry in
            (entry.job.imageId.map(imageIDs.contains) ?? false) || (projectID != nil && entry.job.projectId == projectID)
        }.map(\.job.id).sorted()
    }

    /// Asks a job to stop. A queued job is cancelled at once; a running one when it next checks.
    /// Finished jobs are returned unchanged. Nil for unknown ids.
    public func cancel(_ id: String) -> JobDTO? {
        lock.lock()
        guard var entry = live[id] else { lock.unlock(); return job(id) }
        entry.cancelRequested = true
        if entry.job.state == "queued" {
            waiting.removeAll { $0 == id }
            live[id] = entry
            lock.unlock()
            finish(id, state: "cancelled", result: nil, error: nil)
            return job(id)
        }
        entry.job.stage = "cancelling"
        live[id] = entry
        lock.unlock()
        push(id, force: true)
        return job(id)
    }

    func isCancelled(_ id: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return live[id]?.cancelRequested ?? false
    }

    /// A stream of the job's states: the current one first, then every change (progress at most
    /// ~10 per second); it finishes after a terminal state.
    public func subscribe(_ id: String) -> AsyncStream<JobDTO>? {
        let (stream, continuation) = AsyncStream<JobDTO>.makeStream(bufferingPolicy: .bufferingNewest(64))
        lock.lock()
        if var entry = live[id] {
            let key = UUID()
            continuation.yield(entry.job)
            entry.subscribers[key] = continuation
            live[id] = entry
            lock.unlock()
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.lock.lock(); self.live[id]?.subscribers[key] = nil; self.lock.unlock()
            }
            return stream
        }
        lock.unlock()
        guard let stored = job(id) else { return nil }
        continuation.yield(stored)
        continuation.finish()
        return stream
    }

    /// Waits until the job has finished (tests, synchronous callers).
    public func wait(_ id: String) async -> JobDTO? {
        guard let stream = subscribe(id) else { return nil }
        var last: JobDTO?
        for await state in stream { last = state }
        return last
    }

    // MARK: - Workers

    private func startWorkers() {
        while true {
            lock.lock()
            guard running < concurrency, !waiting.isEmpty else { lock.unlock(); return }
            let id = waiting.removeFirst()
            running += 1
            lock.unlock()
            let thread = Thread { [self] in
                var next: String? = id
                while let current = next {
                    run(current)
                    lock.lock()
                    if waiting.isEmpty { running -= 1; next = nil } else { next = waiting.removeFirst() }
                    lock.unlock()
                }
            }
            thread.name = "cleave-job"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func run(_ id: String) {
        lock.lock()
        guard var entry = live[id], let work = entry.work else { lock.unlock(); return }
        if entry.cancelRequested { lock.unlock(); finish(id, state: "cancelled", result: nil, error: nil); return }
        entry.job.state = "running"
        entry.job.stage = "starting"
        entry.job.startedAt = Workbench.now()
        entry.work = nil
        live[id] = entry
        let snapshot = entry.job
        lock.unlock()
        try? database.write { db in try db.save(snapshot) }
        push(id, force: true)
        let context = JobContext(id: id, queue: self)
        do {
            let result = try work(context)
            if context.isCancelled { finish(id, state: "cancelled", result: nil, error: nil) }
            else { finish(id, state: "done", result: result, error: nil) }
        } catch is JobCancelled {
            finish(id, state: "cancelled", result: nil, error: nil)
        } catch let error as APIError {
            finish(id, state: "failed", result: nil, error: redactor.clean(error.message, allPaths: true).replacingOccurrences(of: "\n", with: " "))
        } catch {
            finish(id, state: "failed", result: nil, error: redactor.clean(APIError.message(for: error), allPaths: true).replacingOccurrences(of: "\n", with: " "))
        }
    }

    func update(id: String, progress: Double, stage: String) {
        lock.lock()
        guard var entry = live[id], entry.job.state == "running" else { lock.unlock(); return }
        entry.job.progress = max(entry.job.progress, min(progress, 1))
        if !entry.cancelRequested { entry.job.stage = stage }
        live[id] = entry
        lock.unlock()
        push(id, force: false)
    }

    func updateMetrics(id: String, metrics: JSONValue) {
        lock.lock()
        guard var entry = live[id], entry.job.state == "running" else { lock.unlock(); return }
        entry.job.metrics = metrics
        live[id] = entry
        lock.unlock()
        push(id, force: false)
    }

    private func finish(_ id: String, state: String, result: JSONValue?, error: String?) {
        lock.lock()
        guard var entry = live[id] else { lock.unlock(); return }
        entry.job.state = state
        entry.job.result = result
        entry.job.error = error
        entry.job.finishedAt = Workbench.now()
        if state == "done" { entry.job.progress = 1 }
        entry.job.stage = state
        live[id] = entry
        let snapshot = entry.job
        lock.unlock()
        try? database.write { db in try db.save(snapshot) }
        lock.lock()
        let subscribers = live[id]?.subscribers.values.map { $0 } ?? []
        live[id] = nil
        lock.unlock()
        for s in subscribers { s.yield(snapshot); s.finish() }
    }

    private func push(_ id: String, force: Bool) {
        lock.lock()
        guard var entry = live[id] else { lock.unlock(); return }
        let now = Date().timeIntervalSinceReferenceDate
        if !force && now - entry.lastPush < 0.1 { lock.unlock(); return }
        entry.lastPush = now
        live[id] = entry
        let snapshot = entry.job, subscribers = Array(entry.subscribers.values)
        lock.unlock()
        for s in subscribers { s.yield(snapshot) }
    }
}

extension JobDTO: Record {
    static let table = "jobs"
    static let noun = "job"
    /// `metrics` is live only (not stored).
    func columns() -> [(name: String, value: (any SQLValueConvertible)?)] {
        [("id", id), ("kind", kind), ("image_id", imageId), ("project_id", projectId), ("params", JSONValue.text(params)),
         ("state", state), ("progress", progress), ("stage", stage), ("result", result.map(JSONValue.text)), ("error", error),
         ("created_at", createdAt), ("started_at", startedAt), ("finished_at", finishedAt)]
    }

    init(row: SQLRow) {
        self.init(id: row["id"], kind: row["kind"], imageId: row["image_id"], projectId: row["project_id"],
                  params: JSONValue.parse(row["params"]) ?? .null, state: row["state"], progress: row["progress"],
                  stage: row["stage"], result: (row["result"] as String?).flatMap(JSONValue.parse), error: row["error"],
                  createdAt: row["created_at"], startedAt: row["started_at"], finishedAt: row["finished_at"])
    }
}
