import Testing
import CleavePipelines

/// `scontrol -o show job` records, copied from Slurm 22.05 (Debian 12) on the CI's one-node
/// cluster (Tests/slurm/start-slurm.sh): a 4-task array whose task 2 exited 3, and a merge job
/// with --dependency=afterok and --kill-on-invalid-dep=yes. Long middle fields are cut.
@Suite struct SlurmJobStateTests {
    static let arrayWhileRunning = """
        JobId=4 ArrayJobId=4 ArrayTaskId=2-3 JobName=t2.sh UserId=root(0) GroupId=root(0) MCS_label=N/A JobState=PENDING Reason=Resources Dependency=(null) ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED AllocNode:Sid=localhost:19918 TRES=cpu=1,mem=21694M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* Command=/tmp/sq/a b'c/t2.sh WorkDir=/tmp/sq/a b'c StdErr=/tmp/sq/a b'c/log-4_4294967294.out StdIn=/dev/null StdOut=/tmp/sq/a b'c/log-4_4294967294.out Power= 
        JobId=7 ArrayJobId=4 ArrayTaskId=1 JobName=t2.sh UserId=root(0) GroupId=root(0) MCS_label=N/A JobState=RUNNING Reason=None Dependency=(null) ExitCode=0:0 RunTime=00:00:01 TimeLimit=365-00:00:00 Command=/tmp/sq/a b'c/t2.sh WorkDir=/tmp/sq/a b'c StdErr=/tmp/sq/a b'c/log-4_1.out StdIn=/dev/null StdOut=/tmp/sq/a b'c/log-4_1.out Power= 
        JobId=6 ArrayJobId=4 ArrayTaskId=0 JobName=t2.sh UserId=root(0) GroupId=root(0) MCS_label=N/A JobState=RUNNING Reason=None Dependency=(null) ExitCode=0:0 RunTime=00:00:01 TimeLimit=365-00:00:00 Command=/tmp/sq/a b'c/t2.sh WorkDir=/tmp/sq/a b'c StdErr=/tmp/sq/a b'c/log-4_0.out StdIn=/dev/null StdOut=/tmp/sq/a b'c/log-4_0.out Power= 
        """
    static let arrayEnded = """
        JobId=4 ArrayJobId=4 ArrayTaskId=3 JobName=t2.sh UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 RunTime=00:00:02 StdOut=/tmp/sq/a b'c/log-4_3.out Power= 
        JobId=8 ArrayJobId=4 ArrayTaskId=2 JobName=t2.sh UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 RunTime=00:00:02 StdOut=/tmp/sq/a b'c/log-4_2.out Power= 
        JobId=7 ArrayJobId=4 ArrayTaskId=1 JobName=t2.sh UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 RunTime=00:00:02 StdOut=/tmp/sq/a b'c/log-4_1.out Power= 
        JobId=6 ArrayJobId=4 ArrayTaskId=0 JobName=t2.sh UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 RunTime=1-02:03:04 StdOut=/tmp/sq/a b'c/log-4_0.out Power= 
        """
    static let mergeCancelled = """
        JobId=5 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901756 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=DependencyNeverSatisfied Dependency=afterok:4_*(failed) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED WorkDir=/tmp/sq/a b'c StdErr=/tmp/sq/a b'c/slurm-5.out StdIn=/dev/null StdOut=/tmp/sq/a b'c/slurm-5.out Power= KillOInInvalidDependent=Yes 
        """

    @Test func runningArray() {
        let records = SlurmJobState.parse(scontrolOutput: Self.arrayWhileRunning)
        #expect(records.map(\.jobID) == ["4", "7", "6"])
        #expect(records.map(\.arrayTask) == ["2-3", "1", "0"])
        #expect(records.map(\.state) == ["PENDING", "RUNNING", "RUNNING"])
        #expect(records.map(\.taskCount) == [2, 1, 1])
        #expect(records.map(\.taskIndices) == [[2, 3], [1], [0]])
        #expect(records[0].reason == "Resources" && records[1].reason == nil)
        #expect(records[1].logPath == "/tmp/sq/a b'c/log-4_1.out")
        #expect(records.allSatisfy { !$0.isFinal })
    }

    @Test func endedArrayAndCancelledMerge() {
        let records = SlurmJobState.parse(scontrolOutput: Self.arrayEnded)
        #expect(records.map(\.state) == ["COMPLETED", "FAILED", "COMPLETED", "COMPLETED"])
        #expect(records.allSatisfy { $0.isFinal })
        #expect(records[1].exitCode == "3:0" && records[1].reason == "NonZeroExitCode")
        #expect(records.map(\.runSeconds) == [2, 2, 2, 93_784])
        let merge = SlurmJobState.parse(scontrolOutput: Self.mergeCancelled)
        #expect(merge.count == 1)
        #expect(merge[0].jobID == "5" && merge[0].arrayTask == nil && merge[0].taskCount == 1)
        #expect(merge[0].state == "CANCELLED" && merge[0].isFinal && merge[0].reason == "DependencyNeverSatisfied")
        #expect(merge[0].logPath == "/tmp/sq/a b'c/slurm-5.out")
    }

    @Test func messagesAndTaskListsWithGaps() {
        #expect(SlurmJobState.parse(scontrolOutput: "slurm_load_jobs error: Invalid job id specified\n").isEmpty)
        let gaps = SlurmJobState.parse(scontrolOutput: "JobId=9 ArrayTaskId=0,2,5-7%2 JobState=PENDING RunTime=garbage")
        #expect(gaps.map(\.taskCount) == [5])
        #expect(gaps[0].taskIndices == [0, 2, 5, 6, 7])
        #expect(gaps[0].runSeconds == nil)
    }
}
