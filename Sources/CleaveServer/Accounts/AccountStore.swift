import Foundation
import HummingbirdBcrypt

/// A project member's role. Each role can do everything the ones before it can:
/// a viewer reads, an annotator also paints and runs tools, an owner also manages members and consent.
public enum ProjectRole: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, annotator, owner

    var rank: Int {
        switch self {
        case .viewer: 0
        case .annotator: 1
        case .owner: 2
        }
    }

    /// Orders roles by what they may do: viewer < annotator < owner.
    public static func < (lhs: ProjectRole, rhs: ProjectRole) -> Bool { lhs.rank < rhs.rank }
}

/// An account as the API and `cleave user list` show it (never its password hash or session tokens).
public struct UserDTO: Codable, Equatable, Sendable {
    /// The login name (1 to 64 letters, digits, '.', '-', '_' or '@').
    public var name: String
    /// Whether the account is an admin (sees and manages every project and account).
    public var admin: Bool
    /// When the account was created (ISO 8601, UTC).
    public var createdAt: String
}

/// A signed-in account, as the authorization layer sees it.
public struct Account: Sendable, Equatable {
    /// The account's internal id (the users table's key; never shown in events).
    public var id: String
    /// The login name.
    public var name: String
    /// Whether the account is an admin (sees every project, passes every role check).
    public var isAdmin: Bool
    /// The random id this account's events carry (never its name).
    public var pseudonym: String
}

/// What went wrong with an account operation; one line each, naming the field.
public enum AccountError: Error, CustomStringConvertible, Equatable {
    case invalidName(String)
    case passwordTooShort(minimum: Int)
    case passwordTooLong(maximum: Int)
    case passwordHasNUL
    case nameTaken(String)
    case noSuchUser(String)

    /// The one-line message for the user, naming the field and the rule.
    public var description: String {
        switch self {
        case .invalidName(let name):
            "name \(String(name.prefix(80)).debugDescription) is not allowed: use 1 to 64 letters, digits, '.', '-', '_' or '@'"
        case .passwordTooShort(let minimum): "password is too short: at least \(minimum) characters"
        case .passwordTooLong(let maximum): "password is too long: bcrypt uses at most \(maximum) bytes of it"
        case .passwordHasNUL: "password contains a NUL character"
        case .nameTaken(let name): "a user named \(name) already exists"
        case .noSuchUser(let name): "no user named \(String(name.prefix(80)))"
        }
    }
}

/// Local accounts, login sessions, project membership and the audit log, in the workbench
/// database (tables `users`, `sessions`, `project_members`, `audit`; migration v4).
///
/// Passwords are hashed with bcrypt (hummingbird-auth's `HummingbirdBcrypt`); session tokens are
/// 256 random bits from `SystemRandomNumberGenerator`, handed to the browser once and stored only
/// as their SHA-256. The CSRF token of a session is derived from its token, so it is never stored.
public final class AccountStore: Sendable {
    /// The workbench database (SQLite or PostgreSQL) the account tables live in.
    public let database: WorkbenchDatabase
    /// bcrypt's cost (log2 of the rounds) for new hashes; verification reads the cost from the hash.
    public let passwordCost: UInt8
    /// A session ends this long after its last use …
    public let idleLifetime: TimeInterval
    /// … and at the latest this long after login.
    public let absoluteLifetime: TimeInterval

    /// The bcrypt cost (12) when none is configured.
    public static let defaultPasswordCost: UInt8 = 12
    /// The shortest accepted password, in characters (8).
    public static let minimumPasswordLength = 8
    /// bcrypt reads at most 72 bytes; longer passwords are refused rather than silently cut.
    public static let maximumPasswordBytes = 72

    /// A store on `database`'s pool. `passwordCost` is clamped to bcrypt's 4…31; the lifetimes are in
    /// seconds (default 12 hours idle, 7 days absolute).
    public init(database: WorkbenchDatabase, passwordCost: UInt8 = AccountStore.defaultPasswordCost,
                idleLifetime: TimeInterval = 12 * 3600, absoluteLifetime: TimeInterval = 7 * 24 * 3600) {
        self.database = database
        self.passwordCost = min(31, max(4, passwordCost))
        self.idleLifetime = idleLifetime
        self.absoluteLifetime = absoluteLifetime
    }

    // MARK: - Users

    /// True once any account exists: from then on every API route needs a session.
    ///
    /// What request handlers call here is `async` and reads through GRDB's async API: a
    /// synchronous read on a cooperative thread waits for a reader that an async read may hold
    /// while it waits for a cooperative thread; with every thread waiting that way (twenty
    /// parallel uploads on two cores did it) the server stops answering.
    public func hasAccounts() async throws -> Bool {
        try await database.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users)") ?? false }
    }

    static func checkedName(_ name: String) throws -> String {
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({
            ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 45 || $0 == 95 || $0 == 64
        }) else { throw AccountError.invalidName(name) }
        return name
    }

    /// - Throws: ``AccountError`` when the password is too short, too long for bcrypt, or has a NUL.
    public static func checkPassword(_ password: String) throws {
        guard password.count >= minimumPasswordLength else { throw AccountError.passwordTooShort(minimum: minimumPasswordLength) }
        guard password.utf8.count <= maximumPasswordBytes else { throw AccountError.passwordTooLong(maximum: maximumPasswordBytes) }
        guard !password.utf8.contains(0) else { throw AccountError.passwordHasNUL }
    }

    /// Creates an account. - Throws: ``AccountError`` for a bad name or password, or a taken name.
    @discardableResult
    public func addUser(name rawName: String, password: String, admin: Bool) throws -> UserDTO {
        let name = try AccountStore.checkedName(rawName)
        try AccountStore.checkPassword(password)
        let hash = Bcrypt.hash(password, cost: passwordCost)
        let now = Workbench.now()
        let user = UserDTO(name: name, admin: admin, createdAt: now)
        try database.write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM users WHERE lower(name) = lower(?))", arguments: [name]) == true {
                throw AccountError.nameTaken(name)
            }
            try db.execute(sql: """
                INSERT INTO users (id, name, password_hash, is_admin, pseudonym, created_at, password_changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Workbench.newID(), name, hash, admin, "u-" + AccountStore.randomHex(byteCount: 12), now, now])
        }
        return user
    }

    /// Every account, by name.
    public func users() throws -> [UserDTO] {
        try database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT name, is_admin, created_at FROM users ORDER BY lower(name)").map {
                UserDTO(name: $0["name"], admin: $0["is_admin"], createdAt: $0["created_at"])
            }
        }
    }

    /// Sets a new password and ends every session of the account except `keeping` (a token).
    public func setPassword(name: String, password: String, keeping token: String? = nil) throws {
        try AccountStore.checkPassword(password)
        let hash = Bcrypt.hash(password, cost: passwordCost)
        let kept = token.map(AccountStore.tokenHash) ?? ""
        try database.write { db in
            guard let id = try String.fetchOne(db, sql: "SELECT id FROM users WHERE lower(name) = lower(?)", arguments: [name]) else {
                throw AccountError.noSuchUser(name)
            }
            try db.execute(sql: "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                           arguments: [hash, Workbench.now(), id])
            try db.execute(sql: "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?", arguments: [id, kept])
        }
    }

    /// Removes an account with its sessions and memberships (its projects, strokes and events stay).
    public func removeUser(name: String) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM users WHERE lower(name) = lower(?)", arguments: [name])
            if db.changesCount == 0 { throw AccountError.noSuchUser(name) }
        }
    }

    func account(_ row: SQLRow) -> Account {
        Account(id: row["id"], name: row["name"], isAdmin: row["is_admin"], pseudonym: row["pseudonym"])
    }

    /// The account with exactly this name, or nil when there is none.
    ///
    /// - Throws: the database's error when it cannot be read.
    public func account(named name: String) throws -> Account? {
        try database.read { db in try SQLRow.fetchOne(db, sql: "SELECT * FROM users WHERE lower(name) = lower(?)", arguments: [name]).map(account) }
    }

    /// The account when `password` is its password, else nil. An unknown name costs the same
    /// bcrypt work as a known one, so response times do not tell which names exist.
    public func verify(name: String, password: String) throws -> Account? {
        let row = try database.read { db in try SQLRow.fetchOne(db, sql: "SELECT * FROM users WHERE lower(name) = lower(?)", arguments: [name]) }
        let hash: String = row?["password_hash"] ?? dummyHash()
        // bcrypt compares its output in constant time (timingsafe_bcmp in CBcrypt).
        let matches = !password.utf8.contains(0) && password.utf8.count <= AccountStore.maximumPasswordBytes
            && Bcrypt.verify(password, hash: hash)
        guard matches, let row else { return nil }
        return account(row)
    }

    private let dummy = LockedValue<String?>(nil)

    /// A hash of a random password at this store's cost, made once.
    private func dummyHash() -> String {
        dummy.withLock { value in
            if let value { return value }
            let made = Bcrypt.hash(AccountStore.randomHex(byteCount: 16), cost: passwordCost)
            value = made
            return made
        }
    }

    // MARK: - Sessions

    /// A new login session: the token for the cookie (shown once, stored hashed) and its CSRF token.
    public func createSession(for account: Account, now: Date = Date()) throws -> (token: String, csrfToken: String) {
        let token = AccountStore.randomHex(byteCount: 32)
        let time = now.timeIntervalSince1970
        try database.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at < ?", arguments: [time])
            try db.execute(sql: "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                           arguments: [AccountStore.tokenHash(token), account.id, time, time + idleLifetime])
        }
        return (token, AccountStore.csrfToken(for: token))
    }

    /// The account of a live session, or nil (unknown, expired or malformed token). A session in
    /// use is extended (at most once a minute, so reads stay reads) up to its absolute lifetime.
    public func session(token: String, now: Date = Date()) async throws -> Account? {
        guard token.utf8.count == 64, token.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
        let hash = AccountStore.tokenHash(token)
        let time = now.timeIntervalSince1970
        let found = try await database.read { db in
            try SQLRow.fetchOne(db, sql: """
                SELECT users.*, sessions.created_at AS session_created, sessions.expires_at AS session_expires
                FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.token_hash = ?
                """, arguments: [hash])
        }
        guard let found else { return nil }
        let created: Double = found["session_created"], expires: Double = found["session_expires"]
        guard time < expires, time < created + absoluteLifetime else {
            try await database.write { db in try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [hash]) }
            return nil
        }
        let extended = min(time + idleLifetime, created + absoluteLifetime)
        if extended - expires > 60 {
            try await database.write { db in
                try db.execute(sql: "UPDATE sessions SET expires_at = ? WHERE token_hash = ?", arguments: [extended, hash])
            }
        }
        return account(found)
    }

    /// Ends a session (logout). Unknown tokens are ignored.
    public func deleteSession(token: String) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [AccountStore.tokenHash(token)])
        }
    }

    static func tokenHash(_ token: String) -> String { SHA256.hex(Array(token.utf8)) }

    /// The CSRF token of a session: derived from the session token (which only the browser holds,
    /// in an HttpOnly cookie), so a page on another site can neither read nor guess it.
    public static func csrfToken(for token: String) -> String { SHA256.hex(Array(("cleave-csrf:" + token).utf8)) }

    static func randomHex(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(byteCount * 2)
        for _ in 0..<byteCount {
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}

/// A value behind a lock.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body(&value)
    }
}
