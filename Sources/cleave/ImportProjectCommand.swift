import ArgumentParser
import CleaveCore
import CleaveServer
import Foundation

/// `cleave import-project`: a project export zip into a workbench data directory, as a new project.
struct ImportProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-project",
        abstract: "Import a project export (.zip from the workbench's Export) as a new project.",
        discussion: """
        The same import as the workbench's Import button (POST /api/projects/import): the archive \
        is checked completely before anything is stored — every image against the SHA-256 that \
        metadata.json lists and decoded as an upload is, the label and provenance TIFFs, the \
        strokes (their classes must be the export's, and painting them again must give the \
        export's painted labels) — and then one transaction adds the project with new ids, its \
        classes, images and strokes (each with its painter's pseudonym and time), an `import` \
        event and an `import.project` audit record. A refused archive leaves nothing behind.

        The project is named "NAME (imported)" (then "(imported 2)", …) unless --name is given. \
        Labels that came from results (picked clusters, accepted or corrected predictions) are in \
        the export only as pictures; they are counted, not restored: train and predict again. \
        Works while cleave serve runs on the same data directory.

        When the data directory has accounts, --owner names the account that owns the new project.

        Examples:
          cleave import-project cleave-1a2b3c4d.zip --data ~/cleave
          cleave import-project export.zip --data ~/cleave --owner alice --name "Sandstone, second look"
          cleave import-project export.zip --data ~/cleave --database postgres://cleave:secret@127.0.0.1/cleave --owner alice
        """)

    @Argument(help: ArgumentHelp("The project export (.zip).", valueName: "ZIP"))
    var archive: String

    @Option(name: .customLong("data"), help: ArgumentHelp("Data directory of the workbench (as for cleave serve).", valueName: "DIR"))
    var dataDirectory = "cleave-data"

    @Option(help: ArgumentHelp("The server's PostgreSQL database, when it runs with one (as for cleave serve --database).", valueName: "URL"))
    var database: String?

    @Option(help: ArgumentHelp("The account that owns the new project (required when the data directory has accounts).", valueName: "NAME"))
    var owner: String?

    @Option(help: ArgumentHelp("The new project's name (default: the exported project's name + \" (imported)\").", valueName: "NAME"))
    var name: String?

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: archive) else { throw CleaveError("\(archive): no such file (or not readable)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CleaveError("--data \(dataDirectory): no such directory (start `cleave serve --data \(dataDirectory)` once, or create it)")
        }
        var configuration = ServerConfiguration(dataDirectory: dataDirectory)
        configuration.database = database
        let store: WorkbenchDatabase
        do { store = try WorkbenchDatabase(database: database, dataDirectory: dataDirectory) } catch let error as DatabaseConfigurationError {
            throw CleaveError("--" + error.description)
        }
        let accounts = AccountStore(database: store)
        var account: Account? = nil
        if let owner {
            guard let found = try accounts.account(named: owner) else { throw CleaveError("--owner \(owner): no such account (cleave user list --data \(dataDirectory))") }
            account = found
        } else if try accounts.users().isEmpty == false {
            throw CleaveError("--data \(dataDirectory) has accounts: give --owner NAME, the account that owns the imported project")
        }
        let importer = ProjectImporter(database: store, blobs: try BlobStore(dataDirectory: dataDirectory), configuration: configuration)
        let tty = isatty(STDERR_FILENO) != 0
        let started = Date()
        let outcome = ImportOutcome()
        let done = DispatchSemaphore(value: 0)
        let (archive, name, userID) = (self.archive, self.name, account?.pseudonym ?? "cli-import")
        Task {
            do {
                outcome.set(.success(try await importer.run(archive: archive, name: name, owner: account, userID: userID, sessionID: nil) { stage, fraction in
                    if tty { FileHandle.standardError.write(Data(String(format: "\rcleave import-project: %3.0f%% %@\u{1B}[K", fraction * 100, stage).utf8)) }
                }))
            } catch {
                outcome.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        switch outcome.result! {
        case .failure(let error as APIError): throw CleaveError("\(archive): \(error.message)")
        case .failure(let error): throw error
        case .success(let imported):
            var line = String(format: "cleave import-project: %@ → project \"%@\" (%@): %d images, %d classes, %d strokes in %.1f s",
                              archive, imported.project.name, imported.project.id, imported.images, imported.classes, imported.strokes,
                              Date().timeIntervalSince(started))
            line += "; exported from \"\(imported.source.projectName)\" at \(imported.source.exportedAt ?? "?") by Cleave \(imported.source.cleaveVersion ?? "?")"
            print(line)
            if imported.unrestoredPixels > 0 {
                print("cleave import-project: \(imported.unrestoredPixels) labelled pixels came from results (picked clusters, accepted or corrected predictions), which exports hold only as label TIFFs; train and predict again to recreate them")
            }
            if !imported.ignoredEntries.isEmpty {
                print("cleave import-project: ignored \(imported.ignoredEntries.count) entries that are not part of a project export: \(imported.ignoredEntries.prefix(5).joined(separator: ", "))")
            }
        }
    }
}

/// The import's result handed from its task to the waiting command.
private final class ImportOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<ProjectImportDTO, Error>?
    func set(_ result: Result<ProjectImportDTO, Error>) { lock.lock(); value = result; lock.unlock() }
    var result: Result<ProjectImportDTO, Error>? { lock.lock(); defer { lock.unlock() }; return value }
}
