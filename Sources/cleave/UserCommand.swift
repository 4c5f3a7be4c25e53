import ArgumentParser
import CleaveCore
import CleaveServer
import Foundation

/// `cleave user`: accounts of the web workbench (`cleave serve`).
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the workbench's accounts (for a server that a whole lab shares).",
        discussion: """
        Without accounts, `cleave serve` is single-user: it listens on 127.0.0.1 only and needs no \
        login. Once an account exists in a data directory, every page and API call there needs a \
        login, users see only the projects they are members of (as owner, annotator or viewer), \
        and `cleave serve --host 0.0.0.0` may expose it to the network. Administrators see every \
        project and the audit log. Passwords are read from standard input (one line) and stored \
        as bcrypt hashes. These commands work while the server runs.

        Examples:
          cleave user add alice --admin --data ~/cleave      # then type the password and Enter
          printf '%s\\n' "$PASSWORD" | cleave user add bob --data ~/cleave
          cleave user list --data ~/cleave
          cleave user passwd bob --data ~/cleave
          cleave user remove bob --data ~/cleave
        """,
        subcommands: [Add.self, List.self, Passwd.self, Remove.self])

    struct DataOption: ParsableArguments {
        @Option(name: .customLong("data"), help: ArgumentHelp("Data directory of the workbench (as for cleave serve).", valueName: "DIR"))
        var dataDirectory = "cleave-data"

        @Option(help: ArgumentHelp("The server's PostgreSQL database, when it runs with one (as for cleave serve --database).", valueName: "URL"))
        var database: String?

        /// The account store of an existing data directory (a missing one is an error, not created).
        func store() throws -> AccountStore {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CleaveError("--data \(dataDirectory): no such directory (start `cleave serve --data \(dataDirectory)` once, or create it)")
            }
            do {
                return AccountStore(database: try WorkbenchDatabase(database: database, dataDirectory: dataDirectory))
            } catch let error as DatabaseConfigurationError {
                throw CleaveError("--" + error.description)
            }
        }
    }

    /// One line of standard input (without its line end), prompting when it is a terminal.
    static func readPassword(prompt: String) throws -> String {
        if isatty(STDIN_FILENO) != 0 { FileHandle.standardError.write(Data(prompt.utf8)) }
        guard var line = readLine(strippingNewline: true) else {
            throw CleaveError("no password on standard input (type it, or pipe one line: printf '%s\\n' \"$PASSWORD\" | cleave user …)")
        }
        if line.hasSuffix("\r") { line.removeLast() }
        do { try AccountStore.checkPassword(line) } catch let error as AccountError { throw CleaveError(error.description) }
        return line
    }

    static func run<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as AccountError { throw CleaveError(error.description) }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account; the password is read from standard input.",
            discussion: "Names are 1 to 64 letters, digits, '.', '-', '_' or '@', unique whatever their case. Passwords are 8 to 72 bytes.")

        @Argument(help: "The account's name (what its owner types to sign in).")
        var name: String

        @Flag(help: "An administrator: sees every project and the audit log.")
        var admin = false

        @OptionGroup var data: DataOption

        func run() throws {
            let store = try data.store()
            if try store.account(named: name) != nil { throw CleaveError("a user named \(name) already exists (cleave user passwd \(name) changes its password)") }
            let password = try UserCommand.readPassword(prompt: "Password for \(name): ")
            _ = try UserCommand.run { try store.addUser(name: name, password: password, admin: admin) }
            try store.audit(nil, action: "user.add", target: name, projectID: nil, detail: admin ? "admin" : nil)
            print("cleave user: added \(name)\(admin ? " (administrator)" : "")")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts (name, administrator, created).")

        @OptionGroup var data: DataOption

        func run() throws {
            let users = try data.store().users()
            if users.isEmpty { print("no accounts: the workbench is single-user (127.0.0.1 only, no login)") }
            for user in users { print("\(user.name)\t\(user.admin ? "admin" : "user")\t\(user.createdAt)") }
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an account's password (read from standard input); its sessions end.")

        @Argument(help: "The account's name.")
        var name: String

        @OptionGroup var data: DataOption

        func run() throws {
            let store = try data.store()
            guard try store.account(named: name) != nil else { throw CleaveError("no user named \(name) (cleave user list shows them)") }
            let password = try UserCommand.readPassword(prompt: "New password for \(name): ")
            try UserCommand.run { try store.setPassword(name: name, password: password) }
            try store.audit(nil, action: "user.passwd", target: name, projectID: nil)
            print("cleave user: new password for \(name); its sessions were ended")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an account with its sessions and project memberships (its strokes and events stay).")

        @Argument(help: "The account's name.")
        var name: String

        @OptionGroup var data: DataOption

        func run() throws {
            let store = try data.store()
            try UserCommand.run { try store.removeUser(name: name) }
            try store.audit(nil, action: "user.remove", target: name, projectID: nil)
            print("cleave user: removed \(name)")
        }
    }
}
