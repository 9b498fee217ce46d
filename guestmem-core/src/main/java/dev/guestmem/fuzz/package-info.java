/**
 * Random traces and differential replay: {@link dev.guestmem.fuzz.TraceGenerator} writes seeded,
 * deterministic {@code .gmt} traces, valid-looking and deliberately bad, that keep to the rules
 * ({@link dev.guestmem.fuzz.ExclusionRule}) under which the engine and the reference kernel must print
 * the same lines; {@link dev.guestmem.fuzz.DifferentialReplayer} replays one trace on two backends and
 * reports the first line where they differ; {@link dev.guestmem.fuzz.TraceShrinker} cuts a trace down
 * to the lines a difference needs.
 */
package dev.guestmem.fuzz;
