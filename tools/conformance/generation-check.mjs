// Generation conformance: transformers.js loads a package folder made by `llava-edge models generate` UNCHANGED
// (its own processor from the package's tokenizer/processor files and chat template, its own model from onnx/*.onnx),
// builds the prompt for an image of the given size, and runs greedy generation on the pixel values our runtime made
// (a raw little-endian float32 file, [1, N, 3, 512, 512], written from `llava-edge preprocess` output).
//
//   node generation-check.mjs --model DIR --width W --height H --question Q --pixel-values FILE
//        [--max-new-tokens N]
//
// Prints one JSON object: {"input_ids":[…],"rows":R,"cols":C,"pixel_values_shape":[…],"generated_ids":[…],"text":"…"}.
// The runtime never generates added (control) tokens and stops on generation_config's and the text config's eos;
// the same rules are passed to generate() (bad_words_ids, eos_token_id) so both sides decode by the same rules.

import fs from 'node:fs';
import path from 'node:path';
import { env, AutoProcessor, AutoModelForVision2Seq, RawImage, Tensor } from '@huggingface/transformers';
import { configureOffline } from './common.mjs';

function parseArgs(argv) {
    const a = { maxNewTokens: 16, question: 'What is on the belt?' };
    for (let i = 2; i < argv.length; i++) {
        const k = argv[i];
        const v = () => argv[++i];
        if (k === '--model') a.model = path.resolve(v());
        else if (k === '--width') a.width = +v();
        else if (k === '--height') a.height = +v();
        else if (k === '--question') a.question = v();
        else if (k === '--pixel-values') a.pixelValues = v();
        else if (k === '--max-new-tokens') a.maxNewTokens = +v();
        else throw new Error(`unknown argument ${k}`);
    }
    if (!a.model || !a.width || !a.height || !a.pixelValues) throw new Error('--model, --width, --height and --pixel-values are required');
    return a;
}

const args = parseArgs(process.argv);
configureOffline(env, path.dirname(args.model));
const id = path.basename(args.model);
const processor = await AutoProcessor.from_pretrained(id);
const prompt = processor.apply_chat_template(
    [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: args.question }] }],
    { add_generation_prompt: true },
);
// The image's content does not change the ids; its size decides the grid.
const image = new RawImage(new Uint8ClampedArray(args.width * args.height * 3).fill(128), args.width, args.height, 3);
const inputs = await processor(prompt, image);

const buf = fs.readFileSync(args.pixelValues);
const ours = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const dims = inputs.pixel_values.dims;
if (ours.length !== dims.reduce((x, y) => x * y, 1)) {
    throw new Error(`our pixel values hold ${ours.length} floats; the processor's tensor is [${dims}]`);
}
const pixel_values = new Tensor('float32', ours, dims);
const [b, n, , h, w] = dims;
const pixel_attention_mask = new Tensor('bool', new Uint8Array(b * n * h * w).fill(1), [b, n, h, w]);

const model = await AutoModelForVision2Seq.from_pretrained(id, { dtype: 'fp32', device: 'cpu' });
const added = JSON.parse(fs.readFileSync(path.join(args.model, 'tokenizer.json'), 'utf8')).added_tokens.map((t) => t.id);
const generation = JSON.parse(fs.readFileSync(path.join(args.model, 'generation_config.json'), 'utf8'));
const config = JSON.parse(fs.readFileSync(path.join(args.model, 'config.json'), 'utf8'));
const eos = [...new Set([generation.eos_token_id, config.text_config?.eos_token_id].flat().filter((x) => x !== undefined))];
const sequences = await model.generate({
    input_ids: inputs.input_ids,
    attention_mask: inputs.attention_mask,
    pixel_values,
    pixel_attention_mask,
    max_new_tokens: args.maxNewTokens,
    do_sample: false,
    num_beams: 1,
    eos_token_id: eos,
    bad_words_ids: added.filter((t) => !eos.includes(t)).map((t) => [t]),
});
const all = Array.from(sequences.data, Number);
const promptLength = inputs.input_ids.dims[1];
const generated = all.slice(promptLength);
console.log(
    JSON.stringify({
        input_ids: Array.from(inputs.input_ids.data, Number),
        rows: Number(inputs.rows?.[0]?.[0] ?? 0),
        cols: Number(inputs.cols?.[0]?.[0] ?? 0),
        pixel_values_shape: dims,
        generated_ids: generated,
        text: processor.decode(generated.filter((t) => !eos.includes(t)), { skip_special_tokens: true }),
    }),
);
