import Testing
@testable import RedisPublisher

/// Error replies as Redis 7.0 sends them (copied from a real redis-server 7.0.15, directly and
/// from inside a script), and whether the write waits for a retry or is dropped.
@Suite struct WriteRefusalTests {
    @Test(arguments: [
        ("READONLY You can't write against a read only replica.", "READONLY", true),
        ("OOM command not allowed when used memory > 'maxmemory'.", "OOM", true),
        ("OOM command not allowed when used memory > 'maxmemory'. script: 0b0fe20d8544f1c585a9514d45255d3658779636, on @user_script:1.", "OOM", true),
        ("NOPERM this user has no permissions to run the 'evalsha' command", "NOPERM", true),
        ("ERR The user executing the script can't run this command or subcommand script: e01d9fcfe69, on @user_script:40.", "NOPERM", true),
        ("ERR The user executing the script can't access at least one of the keys mentioned in the command script: e01d9fcfe69, on @user_script:12.", "NOPERM", true),
        ("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", "BUSY", true),
        ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", "MISCONF", true),
        ("LOADING Redis is loading the dataset in memory", "LOADING", true),
        ("WRONGTYPE Operation against a key holding the wrong kind of value script: e01d9fcfe69, on @user_script:44.", "WRONGTYPE", false),
        ("ERR Error running script (call to f_1234): @user_script:3: bad argument", "ERR", false),
        ("", "ERR", false),
    ])
    func classifies(reply: String, errorClass: String, transient: Bool) {
        let refusal = WriteRefusal(reply: reply)
        #expect(refusal.errorClass == errorClass)
        #expect(refusal.isTransient == transient)
        #expect(refusal.message == reply)
    }
}
