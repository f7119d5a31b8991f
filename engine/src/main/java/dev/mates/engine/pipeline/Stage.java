package dev.mates.engine.pipeline;

/**
 * Where the loop is: which run, arm and stage, and the object key of the checkpoint the stage starts from.
 * Distributed roles find the run's stored artefacts through it ({@link StorageLayout}).
 */
public record Stage(String run, String arm, int stage, String checkpointKey) {}
