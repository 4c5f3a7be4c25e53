import Foundation
import Hummingbird

/// Background jobs: the caller's list, one job, Cancel, and its progress as server-sent events
/// (documented in ``OpenAPIDocument`` and docs/api.md).
struct JobRoutes {
    let workbench: Workbench
    let authorizer: Authorizer

    func register(on api: GuardedRoutes) {
        let workbench = self.workbench, authorizer = self.authorizer

        // Only jobs of projects the caller can see.
        api.get("jobs", .signedIn) { request, context in
            let visible = try await authorizer.visibleProjects(context.identity!)
            // JobQueue reads the database synchronously: off the cooperative threads, where such a
            // read can wait forever for a reader held by an async read (see AccountStore.hasAccounts).
            let imageID = request.uri.queryParameters.get("imageId")
            let jobs = try await Workbench.offload { try workbench.jobs.jobs(imageID: imageID) }
                .filter { job in
                    guard let visible else { return true }
                    return job.projectId.map { visible[$0] != nil } ?? false
                }
            return ListResponse(items: jobs, key: "jobs")
        }
        api.get("jobs/{jobId}", .member(.viewer)) { _, context -> JobDTO in
            let id = try context.parameter("jobId")
            guard let job = try await Workbench.offload({ workbench.jobs.job(id) }) else { throw APIError(.notFound, "no job with id \(id)") }
            return job
        }
        api.post("jobs/{jobId}/cancel", .member(.annotator)) { _, context -> JobDTO in
            let id = try context.parameter("jobId")
            guard let job = try await Workbench.offload({ workbench.jobs.cancel(id) }) else { throw APIError(.notFound, "no job with id \(id)") }
            return job
        }
        api.get("jobs/{jobId}/events", .member(.viewer)) { _, context -> Response in
            let id = try context.parameter("jobId")
            guard let stream = try await Workbench.offload({ workbench.jobs.subscribe(id) }) else { throw APIError(.notFound, "no job with id \(id)") }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                let encoder = JSONEncoder()
                for await job in stream {
                    let json = String(decoding: try encoder.encode(job), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: job\ndata: \(json)\n\n"))
                }
                try await writer.finish(nil)
            })
        }
    }
}
