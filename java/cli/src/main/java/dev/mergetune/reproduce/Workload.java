package dev.mergetune.reproduce;

/**
 * The work of a cell in the units the timing probe measures: image-tower forward passes without gradients (feature
 * extraction, evaluation), image-tower passes with a backward (end-to-end training), and text-tower prompts run forward
 * and backward (prompt learning, end-to-end training) or forward only (zero-shot heads). {@code assumed} names the
 * datasets not on disk, counted with the standard splits' sizes instead ({@code dataset-sizes.json}).
 */
public record Workload(long imageForwards, long imageTrainPasses, long textTrainPrompts, long textForwards,
    String assumed) {
  public static final Workload NONE = new Workload(0, 0, 0, 0, null);

  public Workload plus(Workload o) {
    String m = assumed == null ? o.assumed : o.assumed == null || assumed.contains(o.assumed) ? assumed : assumed + ", " + o.assumed;
    return new Workload(imageForwards + o.imageForwards, imageTrainPasses + o.imageTrainPasses,
        textTrainPrompts + o.textTrainPrompts, textForwards + o.textForwards, m);
  }
}
