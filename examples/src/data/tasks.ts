import { dilate, flipHorizontal, gaussianBlur, invert, pixelate, rotate180, rotate90, shift, type ImageTransform } from './image-transforms.js';

/** A task of the zoo: digit classification under one input transformation. */
export interface TaskDefinition {
  /** A short identifier, used in file names and tables. */
  readonly name: string;
  readonly description: string;
  readonly transform: ImageTransform;
}

/**
 * The eight tasks (the MaTS paper merges eight tasks too). Geometric remaps the base model has
 * never seen (rotations, a mirror), a photometric one (inversion) and milder shifts of the
 * input distribution (translation, blur, thicker strokes, lower resolution).
 */
export const TASKS: readonly TaskDefinition[] = [
  { name: 'rotate90', description: 'rotated a quarter turn counterclockwise', transform: rotate90 },
  { name: 'rotate180', description: 'rotated a half turn', transform: rotate180 },
  { name: 'flip', description: 'mirrored left to right', transform: flipHorizontal },
  { name: 'invert', description: 'black digits on white (1 - x)', transform: invert },
  { name: 'shift', description: 'moved 5 pixels right and 5 down', transform: shift(5, 5) },
  { name: 'blur', description: 'Gaussian blur, sigma 1.5 pixels', transform: gaussianBlur(1.5) },
  { name: 'dilate', description: 'thicker strokes (3 x 3 dilation)', transform: dilate },
  { name: 'pixelate', description: '4 x 4 pixel blocks (7 x 7 resolution)', transform: pixelate(4) },
];

/** The tasks named, in the given order; an unknown name is an error that lists the known ones. */
export function selectTasks(names: readonly string[]): TaskDefinition[] {
  return names.map((name) => {
    const task = TASKS.find((t) => t.name === name);
    if (task === undefined) throw new RangeError(`unknown task "${name}"; known tasks: ${TASKS.map((t) => t.name).join(', ')}`);
    return task;
  });
}
