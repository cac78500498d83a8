package dev.mergetune.train;

/**
 * A constant warm-up rate, then cosine annealing, per epoch: Dassl's {@code ConstantWarmupScheduler} wrapped around
 * {@code torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, float(max_epoch))} (eta_min 0), as CoOp, KgCoOp and the
 * other Dassl-based prompt learners configure it (CoOp: {@code WARMUP_EPOCH 1}, {@code WARMUP_TYPE constant},
 * {@code WARMUP_CONS_LR 1e-5}; Dassl's default {@code WARMUP_RECOUNT True}, so the cosine counts from its own 0).
 *
 * <p>The rule, for epoch {@code e} counted from 0, {@code W = warmupEpochs}, {@code T = maxEpoch}:
 *
 * <pre>
 *   e &lt; W:   lr = warmupLr
 *   e ≥ W:   lr = 0.5 · base · (1 + cos(π · (e − W) / T))
 * </pre>
 *
 * so with W = 1 epoch 0 gets 1e-5, epoch 1 gets exactly {@code base} and epoch e ≥ 1 gets
 * {@code 0.5·base·(1 + cos(π(e−1)/T))}; the last trained epoch (T − 1) has not reached 0.
 *
 * <p>Derived from {@code dassl/optim/lr_scheduler.py} of KaiyangZhou/Dassl.pytorch (read at commit 27eb2f4a): the
 * successor {@code CosineAnnealingLR} is built first (its constructor's initial step leaves it at {@code last_epoch 0},
 * lr = base). The wrapper's constructor then runs {@code _LRScheduler}'s initial {@code step()}: {@code last_epoch}
 * −1 &lt; W, so it steps itself to 0 and {@code get_lr()} returns {@code cons_lr}. Each {@code scheduler.step()} at the end
 * of an epoch: while {@code last_epoch < W} the wrapper steps itself ({@code last_epoch} → e) and, once {@code last_epoch
 * ≥ W}, {@code get_lr()} returns the successor's last lr, which is still base (its {@code last_epoch} 0) — that is epoch W.
 * From then on {@code step()} only steps the successor, whose {@code last_epoch} becomes e − W, and the wrapper reports
 * its lr: the closed form of {@code CosineAnnealingLR} with eta_min 0 is {@code 0.5·base·(1 + cos(π·(e−W)/T))}. Its
 * recursive form agrees with the closed form here because the group's lr at the hand-over is exactly base. For
 * {@code e − W > T} (not reached when training T epochs) PyTorch's recursive form also follows the cosine back up.
 */
public record ConstantWarmupCosine(double base, double warmupLr, int warmupEpochs, int maxEpoch) implements LrSchedule {
  public ConstantWarmupCosine {
    if (warmupEpochs < 0 || maxEpoch <= 0) {
      throw new IllegalArgumentException("need warmupEpochs >= 0 and maxEpoch > 0, got " + warmupEpochs + ", " + maxEpoch);
    }
  }

  @Override
  public double lr(long epoch) {
    if (epoch < 0) throw new IllegalArgumentException("epoch must be non-negative, got " + epoch);
    if (epoch < warmupEpochs) return warmupLr;
    return 0.5 * base * (1 + Math.cos(Math.PI * (epoch - warmupEpochs) / maxEpoch));
  }
}
