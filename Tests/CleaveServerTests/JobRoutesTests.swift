import CleaveServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct JobRoutesTests {
    /// A job that reports progress until cancelled (or `limit` steps), 5 ms per step. The default
    /// runs for hours, so only a cancel ends it: tests must not depend on how fast the 2 shared
    /// cores are (other suites run in parallel and can starve this one for seconds).
    static func slowWork(limit: Int = 10_000_000) -> JobQueue.Work {
        { context in
            let progress = context.progress()
            for step in 0..<limit {
                try context.checkCancelled()
                progress.report(step, limit, "step")
                usleep(5_000)
            }
            return .object(["steps": .number(Double(limit))])
        }
    }

    @Test func jobsRunInOrderWithBoundedConcurrencyAndCanBeCancelled() async throws {
        let (workbench, app) = try Harness.workbench("server-jobs-queue", jobConcurrency: 1)
        try await app.test(.router) { client in
            let first = try workbench.jobs.submit(kind: "test", imageID: nil, projectID: nil, params: .null, work: Self.slowWork())
            let second = try workbench.jobs.submit(kind: "test", imageID: nil, projectID: nil, params: .null, work: Self.slowWork(limit: 3))
            #expect(second.state == "queued")          // one worker: the second waits
            // The server answers while the job runs (jobs have their own threads). No tight time bound
            // here — other suites load the 2 cores in parallel; bench/server measures latency under a job.
            let projects = try await client.execute(uri: "/api/projects", method: .get)
            #expect(projects.status == .ok)
            var running = try await Harness.get(client, "/api/jobs/\(first.id)")
            for _ in 0..<6_000 where running["stage"] as? String != "step" {   // the worker thread may not have started yet
                try await Task.sleep(for: .milliseconds(10))
                running = try await Harness.get(client, "/api/jobs/\(first.id)")
            }
            #expect(running["state"] as? String == "running")
            #expect(running["stage"] as? String == "step")
            let cancelled = try await Harness.post(client, "/api/jobs/\(first.id)/cancel", "{}")
            #expect(cancelled["id"] as? String == first.id)
            let states = try await Harness.follow(client, job: first.id)
            #expect(states.last?["state"] as? String == "cancelled")
            #expect(try #require(states.last?["progress"] as? Double) < 1)
            // The second job then runs to the end.
            let done = try await Harness.follow(client, job: second.id)
            #expect(done.last?["state"] as? String == "done")
            #expect(done.last?["progress"] as? Double == 1)
            #expect((done.last?["result"] as? [String: Any])?["steps"] as? Int == 3)
            // Finished jobs are kept in the database.
            let stored = try await Harness.get(client, "/api/jobs/\(second.id)")
            #expect(stored["state"] as? String == "done" && stored["finishedAt"] is String)
            let list = try await Harness.get(client, "/api/jobs")
            #expect((list["jobs"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test func aQueuedJobIsCancelledAtOnceAndFailuresKeepOneLine() async throws {
        let (workbench, app) = try Harness.workbench("server-jobs-fail", jobConcurrency: 1)
        try await app.test(.router) { client in
            let blocker = try workbench.jobs.submit(kind: "test", imageID: nil, projectID: nil, params: .null, work: Self.slowWork())
            let queued = try workbench.jobs.submit(kind: "test", imageID: nil, projectID: nil, params: .null, work: Self.slowWork())
            let cancelled = try await Harness.post(client, "/api/jobs/\(queued.id)/cancel", "{}")
            #expect(cancelled["state"] as? String == "cancelled")
            _ = workbench.jobs.cancel(blocker.id)
            let failing = try workbench.jobs.submit(kind: "test", imageID: nil, projectID: nil, params: .null) { _ in
                throw APIError(.badRequest, "the input is\nbroken")
            }
            let end = await workbench.jobs.wait(failing.id)
            #expect(end?.state == "failed")
            #expect(end?.error == "the input is broken")
            let stored = try await Harness.get(client, "/api/jobs/\(failing.id)")
            #expect(stored["state"] as? String == "failed")
        }
    }

    @Test func unknownJobsAre404() async throws {
        let (_, app) = try Harness.workbench("server-jobs-404")
        try await app.test(.router) { client in
            for (uri, method) in [("/api/jobs/nope", HTTPRequest.Method.get), ("/api/jobs/nope/cancel", .post), ("/api/jobs/nope/events", .get)] {
                let response = try await client.execute(uri: uri, method: method, headers: Harness.headers(), body: Harness.body("{}"))
                #expect(response.status == .notFound)
                #expect(Harness.errorMessage(response) == "no job with id nope")
            }
        }
    }

    @Test func jobsLeftRunningByACrashAreMarkedFailedOnRestart() async throws {
        let configuration = Harness.configuration("server-jobs-restart")
        do {
            let workbench = try Workbench(configuration: configuration)
            try await workbench.database.write { db in
                try db.execute(sql: """
                    INSERT INTO jobs (id, kind, params, state, progress, stage, created_at) VALUES ('j1', 'cluster', 'null', 'running', 0.5, 'x', '2026')
                    """)
            }
        }
        let workbench = try Workbench(configuration: configuration)
        let job = try #require(workbench.jobs.job("j1"))
        #expect(job.state == "failed")
        #expect(job.error == "the server stopped while the job was queued or running")
    }
}
