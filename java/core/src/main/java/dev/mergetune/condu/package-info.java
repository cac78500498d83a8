/**
 * ConDU continual learning (methods.md §2): a sequence of tasks held as one unified delta U, per-task bit-packed masks
 * and rescalers, on top of a zero-shot θ0 that is referred to, never copied.
 *
 * <p>{@link dev.mergetune.condu.SessionStore} writes and loads a session directory (layout and crash-consistency rules
 * in its documentation); {@link dev.mergetune.condu.StoredSession} is a loaded, checksum-verified session that
 * decouples any expert θ0 + λ^i·M^i⊙U into a buffer the caller reuses; {@link dev.mergetune.condu.ConduSessions} is
 * the session step: rebuild the old deltas from the last session, unify them with the new task's delta (K3,
 * {@link dev.mergetune.kernels.SignConsistentMax}), tensor by tensor, and commit the next session.
 *
 * <p>Task-agnostic inference (methods.md §2.4): {@link dev.mergetune.condu.ClassPrototypes} builds a task's class
 * prototypes from θ0 features; {@link dev.mergetune.condu.Router} scores every task for each image and keeps the K
 * best (or, in task-ID mode, one given task); {@link dev.mergetune.condu.SemanticAggregation} averages θ0's and the
 * routed experts' logits, asking an {@link dev.mergetune.condu.ExpertLogits} for each needed expert once per batch.
 */
package dev.mergetune.condu;
