package dev.mergetune.world;

/**
 * One image's content: a shape of a colour and size on a background texture, where it sits (centre and radius in
 * pixels), its rotation, the domain it is rendered in, the texture's phase, a brightness factor and the seed of its
 * pixel noise.
 */
public record Scene(String shape, String colour, String texture, String size, double cx, double cy, double radius,
    double rotation, Domain domain, double phase, double brightness, long noiseSeed) {}
