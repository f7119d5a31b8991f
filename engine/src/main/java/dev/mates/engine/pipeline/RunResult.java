package dev.mates.engine.pipeline;

import java.util.List;
import java.util.Map;

/** What {@link Pipeline#run} returns: the run's data summary and every arm's result, first arm = the selector's. */
public record RunResult(String run, Map<String, String> config, long modelParameters, DataSummary data,
                        List<ArmResult> arms) {}
