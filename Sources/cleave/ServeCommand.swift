import ArgumentParser
import CleaveCore
import CleaveServer
import Dispatch
import Foundation
import Hummingbird

/// `cleave serve`: the web workbench.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web workbench: upload, view and annotate images in a browser.",
        discussion: """
        Starts an HTTP server (loopback only unless --host says otherwise) that serves the \
        workbench page at / and its JSON API under /api (described at /api/openapi.json). \
        Projects, images, brush strokes, results and the interaction event log are kept in DIR: \
        an SQLite database (cleave.sqlite, WAL mode), uploaded files stored under their SHA-256 \
        in blobs/, label maps and models in results/, and a cache of generated tiles in tiles/. \
        Uploads stream to disk and are checked before they are accepted (TIFF, PNG or MRC, \
        recognised by content; an extension that disagrees is refused); files that fail leave \
        nothing behind.

        Clustering (the Locator), training and prediction (the pixel classifier) and object \
        measurement run as background jobs (--jobs at once) with progress pushed to the page; \
        they call the same pipeline code as `cleave locate`, `cleave train`, `cleave predict` \
        and `cleave objects`. What users pick, paint, correct and accept becomes reference \
        labels with per-pixel provenance, exported per project as a zip.

        Events carry a random pseudonymous user id kept by the browser, never names, e-mail \
        addresses or IP addresses; users can list and delete their own events.

        Accounts: with none, the workbench is single-user and listens on loopback only (no \
        login). `cleave user add NAME --data DIR` creates one; from then on the page asks for a \
        login, sessions are HttpOnly SameSite=Strict cookies (add --secure-cookies behind an \
        HTTPS proxy), each project is visible to its members only (owner, annotator, viewer; \
        the creator is the owner), administrators see all, and exports and deletions are \
        recorded in an audit log. --host with a non-loopback address needs an account first.

        Database: the tables live in DIR/cleave.sqlite unless --database names a PostgreSQL \
        database (postgres://USER:PASSWORD@HOST:PORT/NAME, or postgres://USER@/NAME?host=/run/postgresql \
        for a Unix socket; the database must exist, its tables are created on first start). \
        Image files, results and tiles stay in DIR either way, so give every server of one \
        database the same DIR. An unreachable server fails within the connect timeout (5 s; \
        connect_timeout=SECONDS in the URL).

        Examples:
          cleave serve --demo                 # demo project (synthetic TEM tile) in ./cleave-data, http://127.0.0.1:8080
          cleave serve --data ~/cleave --port 9000
          cleave user add alice --admin --data ~/cleave && cleave serve --data ~/cleave --host 0.0.0.0
          cleave serve --data ~/cleave --database postgres://cleave:secret@127.0.0.1:5432/cleave
        """)

    @Option(help: "Address to bind. The default serves this machine only; 0.0.0.0 exposes the workbench to the network.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (1-65535).")
    var port = 8080

    @Option(name: .customLong("data"), help: ArgumentHelp("Data directory (created if missing).", valueName: "DIR"))
    var dataDirectory = "cleave-data"

    @Option(help: ArgumentHelp("PostgreSQL database for the tables instead of DIR/cleave.sqlite: postgres://USER:PASSWORD@HOST:PORT/NAME (the database must exist).", valueName: "URL"))
    var database: String?

    @Flag(help: "Create a demo project (a synthetic TEM tile with particles and a grid bar, two classes) if there is none.")
    var demo = false

    @Option(name: .customLong("max-upload-mb"), help: "Largest accepted upload, in MiB.")
    var maximumUploadMiB = 4096

    @Option(name: .customLong("jobs"), help: ArgumentHelp("Background jobs (clustering, training, prediction) that may run at once; each uses several cores inside. Default: one per two cores.", valueName: "N"))
    var jobConcurrency = ServerConfiguration.defaultJobConcurrency

    @Option(name: .customLong("max-image-pixels"), help: ArgumentHelp("Memory budget as an image size: uploads with more pixels (width x height x depth x channels) are refused from their headers before anything is decoded, e.g. a small compressed file that would decode to gigabytes. Jobs need about \(ServerConfiguration.bytesPerPixelEstimate) bytes per pixel; raise it on machines with the memory (e.g. 400000000 for 20000x20000).", valueName: "N"))
    var maximumImagePixels = ServerConfiguration.defaultMaximumImagePixels

    @Flag(name: .customLong("secure-cookies"), help: "Mark the session cookie Secure (only sent over HTTPS): use it behind an HTTPS reverse proxy.")
    var secureCookies = false

    func validate() throws {
        guard maximumImagePixels > 0 else { throw ValidationError("--max-image-pixels must be positive, got \(maximumImagePixels).") }
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be 1 to 65535, got \(port).") }
        guard maximumUploadMiB > 0 else { throw ValidationError("--max-upload-mb must be positive, got \(maximumUploadMiB).") }
        guard (1...64).contains(jobConcurrency) else { throw ValidationError("--jobs must be 1 to 64, got \(jobConcurrency).") }
    }

    func run() throws {
        var configuration = ServerConfiguration(host: host, port: port, dataDirectory: dataDirectory, demo: demo,
                                                maximumUploadBytes: maximumUploadMiB << 20, jobConcurrency: jobConcurrency,
                                                maximumImagePixels: maximumImagePixels)
        configuration.secureCookies = secureCookies
        configuration.database = database
        let done = DispatchSemaphore(value: 0)
        let outcome = ServeOutcome()
        Task {
            do {
                let app = try await buildApplication(configuration)
                FileHandle.standardError.write(Data("cleave serve: http://\(host):\(port)/ (data in \(dataDirectory))\n".utf8))
                try await app.runService()
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error as? ServeRefusal, case .noAccounts = error {
            throw CleaveError("refusing to listen on \(host) with no accounts: anyone who can reach it could read and change every project. Create an account first: cleave user add NAME --admin --data \(dataDirectory) (reads the password from standard input)")
        }
        if let error = outcome.error as? DatabaseConfigurationError { throw CleaveError("--" + error.description) }
        if let error = outcome.error as? PostgresStatementError { throw CleaveError("--" + error.description) }
        if let error = outcome.error { throw error }
    }
}

/// Carries the server task's error back to the synchronous command.
private final class ServeOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ error: Error) { lock.lock(); stored = error; lock.unlock() }
}
