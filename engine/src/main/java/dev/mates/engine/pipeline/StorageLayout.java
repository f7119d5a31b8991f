package dev.mates.engine.pipeline;

/**
 * Every key a run writes, in the object store and in the state store (Redis), in one place: the embedded
 * pipeline, the trainer and the workers all address a run's data through these methods, never by assembling
 * strings of their own. docs/operations.md documents the same layout.
 *
 * <pre>
 * Object store
 * runs/{run}/config.json                                   resolved config (every key)
 * runs/{run}/tokenizer.bin                                 the run's byte-level BPE
 * runs/{run}/reference.jsonl                               D_ref documents
 * runs/{run}/journal/{arm}-{stage}.json                    resume point at the start of that stage
 * runs/{run}/rejects.jsonl                                 rejected input records
 * runs/{run}/report.json, report.html                      the final report
 * runs/{run}/{arm}/checkpoints/step-{N}/{model,optimizer,meta.json}
 * runs/{run}/{arm}/stages/{s}/oracle.jsonl                 {"id","text","influence"} per probe
 * runs/{run}/{arm}/stages/{s}/influence-model/{backbone}.bin
 * runs/{run}/{arm}/stages/{s}/influence-model/fits/{backbone}-{fit}.bin   (distributed: one per fit attempt)
 * runs/{run}/{arm}/stages/{s}/shards/shard-{k}.jsonl       candidate documents of a scoring shard
 * runs/{run}/{arm}/stages/{s}/scores/{attempt}/shard-{k}.jsonl  {"id","score"} per document of the shard
 * runs/{run}/{arm}/stages/{s}/selection.json               the selection manifest
 *
 * State store (Redis; every key under the deployment's key prefix)
 * run:{run}                                                run hash: state, phase, arm, stage, step, checkpoint,
 *                                                          resume (journal key), spec, error, report_ref
 * runs:active                                              set of runs a trainer should resume on start
 * run:{run}:{arm}:stage:{s}:{attempt}:done                 set of completed scoring tasks of one attempt
 * scoring task ids                                         {run}/{arm}/{s}/{attempt}/shard-{k}
 * </pre>
 */
public final class StorageLayout {
    private StorageLayout() {}

    public static String runPrefix(String run) {
        return "runs/" + run + "/";
    }

    public static String configKey(String run) {
        return runPrefix(run) + "config.json";
    }

    public static String tokenizerKey(String run) {
        return runPrefix(run) + "tokenizer.bin";
    }

    public static String referenceKey(String run) {
        return runPrefix(run) + "reference.jsonl";
    }

    public static String journalKey(String run, String arm, int stage) {
        return runPrefix(run) + "journal/" + arm + "-" + stage + ".json";
    }

    public static String rejectsKey(String run) {
        return runPrefix(run) + "rejects.jsonl";
    }

    public static String reportKey(String run) {
        return runPrefix(run) + "report.json";
    }

    public static String reportHtmlKey(String run) {
        return runPrefix(run) + "report.html";
    }

    public static String checkpointKey(String run, String arm, long step) {
        return runPrefix(run) + arm + "/checkpoints/step-" + step + "/";
    }

    public static String stageKey(String run, String arm, int stage) {
        return runPrefix(run) + arm + "/stages/" + stage + "/";
    }

    public static String labelsKey(String run, String arm, int stage) {
        return stageKey(run, arm, stage) + "oracle.jsonl";
    }

    public static String modelKey(String run, String arm, int stage, String backbone) {
        return stageKey(run, arm, stage) + "influence-model/" + backbone + ".bin";
    }

    /** One fit attempt's model: workers cache models by key, so a re-fitted stage gets a key of its own. */
    public static String fitModelKey(String run, String arm, int stage, String backbone, String fit) {
        return stageKey(run, arm, stage) + "influence-model/fits/" + backbone + "-" + fit + ".bin";
    }

    public static String shardKey(String run, String arm, int stage, int shard) {
        return stageKey(run, arm, stage) + "shards/shard-" + shard + ".jsonl";
    }

    /** Scores of one shard in one scoring attempt (a stage re-scored after a resume never reads the old ones). */
    public static String scoresKey(String run, String arm, int stage, String attempt, int shard) {
        return stageKey(run, arm, stage) + "scores/" + attempt + "/shard-" + shard + ".jsonl";
    }

    public static String manifestKey(String run, String arm, int stage) {
        return stageKey(run, arm, stage) + "selection.json";
    }

    // ---- state store ----------------------------------------------------------------------------------------

    /** The run's hash. */
    public static String stateKey(String run) {
        return "run:" + run;
    }

    /** The set of runs a starting trainer resumes. */
    public static String activeRunsKey() {
        return "runs:active";
    }

    /** The set of completed tasks of one scoring attempt (a raw Redis key: the caller adds the key prefix). */
    public static String doneSetKey(String run, String arm, int stage, String attempt) {
        return "run:" + run + ":" + arm + ":stage:" + stage + ":" + attempt + ":done";
    }

    /** Task ids of one scoring attempt start with this. */
    public static String scoringTaskPrefix(String run, String arm, int stage, String attempt) {
        return run + "/" + arm + "/" + stage + "/" + attempt + "/";
    }

    public static String scoringTask(String run, String arm, int stage, String attempt, int shard) {
        return scoringTaskPrefix(run, arm, stage, attempt) + "shard-" + shard;
    }
}
