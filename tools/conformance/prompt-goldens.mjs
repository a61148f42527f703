// SmolVLM prompt goldens produced with transformers.js: AutoProcessor (Idefics3Processor) loaded from
// the real SmolVLM-256M-Instruct processor/tokenizer files, chat template applied with
// add_generation_prompt=true, then the processor run on (text, image) for many image sizes.
//
// Output (relative to the repo root):
//   tests/TestData/golden/transformersjs/smolvlm-prompts.jsonl, one object per line:
//   {"width","height","question","prompt_text","input_ids","rows","cols","pixel_values_shape",
//    "pixel_attention_mask_shape","n_image_tokens","rescaled","resized","python_rescaled"}
//     prompt_text     chat-template output (before the processor expands <image>)
//     input_ids       processor output (after expansion), full
//     rows/cols       the processor's per-image rows/cols (0 when not split)
//     rescaled        [w,h] after transformers.js' longest_edge (2048) resize (reshaped_input_sizes)
//     resized         [w,h] the image is resized to before splitting (resize_for_vision_encoder)
//     python_rescaled [w,h] what Python transformers' Idefics3ImageProcessor computes for the first
//                     resize (rescale_to_max_len: int() + round odd up to even); differs sometimes
//
// Also prints a sweep comparing transformers.js' size planning with tests/TestData/golden/slicing.jsonl
// (Python reference), without writing anything for it.
//
// Usage: node prompt-goldens.mjs [--check]   (--check: compare with the committed file, write nothing)

import fs from 'node:fs';
import path from 'node:path';
import { env, AutoProcessor, RawImage } from '@huggingface/transformers';
import { REPO_ROOT, MODEL_ID, stageReferenceFiles, configureOffline, writeJsonl, toJsonLine } from './common.mjs';

const OUT = path.join(REPO_ROOT, 'tests', 'TestData', 'golden', 'transformersjs', 'smolvlm-prompts.jsonl');
const SLICING = path.join(REPO_ROOT, 'tests', 'TestData', 'golden', 'slicing.jsonl');

const SIZES = [
    [1, 1], [16, 9], [100, 30], // tiny
    [300, 1200], [512, 4096], [720, 1280], // tall
    [1200, 300], [4096, 512], [1920, 1080], // wide
    [3840, 2160], // 4K
    [512, 512], [512, 511], [513, 512], [1024, 768], [2048, 2048], [640, 480], [1280, 720],
    [777, 333], [1001, 1999], // odd
];

const QUESTIONS = [
    'What is on the belt?',
    '  leading spaces',
    'trailing spaces   ',
    'two\n\nlines',
    'tab\there',
    'crlf\r\nline',
    '\u00dcn\u00efc\u00f6d\u00e9 na\u00efve caf\u00e9',
    '\u65e5\u672c\u8a9e\u306e\u8cea\u554f\u3067\u3059\u304b\uff1f',
    'emoji \ud83d\udce6\ud83d\ude9a count?',
    'digits 12345 and 3.14',
    '',
];

function buildCases() {
    const cases = [];
    const seen = new Set();
    const add = (size, q) => {
        const key = `${size[0]}x${size[1]}|${q}`;
        if (!seen.has(key)) (seen.add(key), cases.push({ width: size[0], height: size[1], question: q }));
    };
    for (const s of SIZES) add(s, QUESTIONS[0]); // every size once
    for (const q of QUESTIONS) add([512, 512], q); // every question once
    for (let i = 0; cases.length < 54; i++) add(SIZES[(i * 7 + 3) % SIZES.length], QUESTIONS[(i * 3 + 1) % QUESTIONS.length]);
    return cases;
}

/** Deterministic RGB pattern (gradient + checker), constructed from raw bytes (no image decoding). */
function makeImage(w, h) {
    const data = new Uint8ClampedArray(w * h * 3);
    for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
            const i = (y * w + x) * 3;
            data[i] = Math.floor((255 * x) / Math.max(1, w - 1));
            data[i + 1] = Math.floor((255 * y) / Math.max(1, h - 1));
            data[i + 2] = ((x >> 4) ^ (y >> 4)) & 1 ? 200 : 40;
        }
    }
    return new RawImage(data, w, h, 3);
}

// ---- Python transformers' Idefics3ImageProcessor size planning (ported from tools/golden/slicing_reference.py)
function pyRescaleToMaxLen(height, width, maxLen, minLen = 1) {
    const aspect = width / height;
    if (width >= height) {
        width = maxLen;
        height = Math.trunc(width / aspect);
        if (height % 2 !== 0) height += 1;
    } else {
        height = maxLen;
        width = Math.trunc(height * aspect);
        if (width % 2 !== 0) width += 1;
    }
    return [Math.max(height, minLen), Math.max(width, minLen)];
}
function pyScaleBelowUpperBound(height, width, maxLen) {
    const aspect = width / height;
    if (width >= height && width > maxLen) (width = maxLen), (height = Math.trunc(width / aspect));
    else if (height > width && height > maxLen) (height = maxLen), (width = Math.trunc(height * aspect));
    return [Math.max(height, 1), Math.max(width, 1)];
}

/** transformers.js' own planning, using the processor's methods on a size-only stand-in. */
function jsPlan(imageProcessor, w, h) {
    const [rw, rh] = imageProcessor.get_resize_output_image_size({ size: [w, h] }, imageProcessor.size);
    const { height: vh, width: vw } = imageProcessor.get_resize_for_vision_encoder(
        { dims: [1, 3, rh, rw] },
        imageProcessor.max_image_size.longest_edge,
    );
    const tile = imageProcessor.max_image_size.longest_edge;
    const split = vh > tile || vw > tile;
    return {
        rescaled: [rw, rh],
        resized: [vw, vh],
        rows: split ? Math.ceil(vh / tile) : 0,
        cols: split ? Math.ceil(vw / tile) : 0,
    };
}

function pyPlan(w, h, longestEdge, tile) {
    let [ph, pw] = pyRescaleToMaxLen(h, w, longestEdge);
    [ph, pw] = pyScaleBelowUpperBound(ph, pw, 4096);
    const rescaled = [pw, ph];
    let vh, vw;
    const aspect = pw / ph;
    if (pw >= ph) {
        vw = Math.ceil(pw / tile) * tile;
        vh = Math.ceil(Math.trunc(vw / aspect) / tile) * tile;
    } else {
        vh = Math.ceil(ph / tile) * tile;
        vw = Math.ceil(Math.trunc(vh * aspect) / tile) * tile;
    }
    const split = vh > tile || vw > tile;
    return { rescaled, resized: [vw, vh], rows: split ? Math.ceil(vh / tile) : 0, cols: split ? Math.ceil(vw / tile) : 0 };
}

/** Python transformers' Idefics3Processor prompt expansion (_prompt_split_image / _prompt_single_image). */
function pythonExpandPrompt(text, rows, cols, seqLen) {
    const fake = '<fake_token_around_image>', img = '<image>', glob = '<global-img>';
    let s = '';
    if (rows === 0 && cols === 0) s = fake + glob + img.repeat(seqLen) + fake;
    else {
        for (let h = 0; h < rows; h++) {
            for (let w = 0; w < cols; w++) s += fake + `<row_${h + 1}_col_${w + 1}>` + img.repeat(seqLen);
            s += '\n';
        }
        s += `\n${fake}${glob}${img.repeat(seqLen)}${fake}`;
    }
    return text.split(img).join(s);
}

async function loadRustTokenizer(file) {
    try {
        const mod = await import('tokenizers');
        return (mod.Tokenizer ?? mod.default?.Tokenizer).fromFile(file);
    } catch (e) {
        console.warn(`WARNING: Rust tokenizers not available, input_ids not cross-checked: ${e.message}`);
        return null;
    }
}

async function main() {
    const check = process.argv.includes('--check');
    const t0 = performance.now();
    const { root, modelDir } = stageReferenceFiles();
    configureOffline(env, root);

    // ------------------------------------------------------------------------------------------
    // This is the whole recipe (reusable for a generation-conformance script):
    //   const processor = await AutoProcessor.from_pretrained(MODEL_ID);      // Idefics3Processor
    //   const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: q }] }];
    //   const text = processor.apply_chat_template(messages, { add_generation_prompt: true });
    //   const inputs = await processor(text, image);   // image: RawImage (RGB, 3 channels)
    //   // inputs: input_ids, attention_mask (int64 [1,T]), pixel_values (float32 [1,N,3,512,512]),
    //   //         pixel_attention_mask (bool [1,N,512,512]), rows [[R]], cols [[C]],
    //   //         original_sizes [[H,W]], reshaped_input_sizes [[H,W]]
    // ------------------------------------------------------------------------------------------
    const processor = await AutoProcessor.from_pretrained(MODEL_ID);
    const imageProcessor = processor.image_processor;
    const rust = await loadRustTokenizer(path.join(modelDir, 'tokenizer.json'));
    let rustAgree = 0;
    const tLoad = performance.now();

    // The processor takes its template from tokenizer_config.json; Python's processor reads
    // chat_template.json. Make sure they are the same template.
    const tplFile = JSON.parse(fs.readFileSync(path.join(modelDir, 'chat_template.json'), 'utf8')).chat_template;
    const tplTok = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8')).chat_template;
    if (tplFile !== tplTok) console.warn('WARNING: chat_template.json differs from tokenizer_config.json chat_template');

    const rows = [];
    const cases = buildCases();
    const tile = imageProcessor.max_image_size.longest_edge;
    for (const { width, height, question } of cases) {
        const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: question }] }];
        const prompt_text = processor.apply_chat_template(messages, { add_generation_prompt: true });
        const inputs = await processor(prompt_text, makeImage(width, height));

        const input_ids = Array.from(inputs.input_ids.data, Number);
        const mask = Array.from(inputs.attention_mask.data, Number);
        if (!mask.every((m) => m === 1)) throw new Error('unexpected attention_mask');
        const [rh, rw] = inputs.reshaped_input_sizes[0];
        const r = inputs.rows[0][0];
        const c = inputs.cols[0][0];
        const { height: vh, width: vw } = imageProcessor.get_resize_for_vision_encoder({ dims: [1, 3, rh, rw] }, tile);
        const py = pyPlan(width, height, imageProcessor.size.longest_edge, tile);
        const n_image_tokens = input_ids.filter((id) => id === 49190).length;
        if (n_image_tokens !== (r * c + 1) * processor.config.image_seq_len) throw new Error('image token count mismatch');
        if (inputs.pixel_values.dims[1] !== r * c + 1) throw new Error('patch count mismatch');

        if (rust) {
            // Cross-check: Python-style expansion + Rust tokenizers must give the same ids.
            const expanded = pythonExpandPrompt(prompt_text, r, c, processor.config.image_seq_len);
            const ids = Array.from((await rust.encode(expanded, null, { addSpecialTokens: true })).getIds());
            if (ids.length !== input_ids.length || ids.some((v, i) => v !== input_ids[i]))
                throw new Error(`input_ids differ from Python-style expansion + Rust tokenizers for ${width}x${height} ${JSON.stringify(question)}`);
            rustAgree++;
        }

        rows.push({
            width,
            height,
            question,
            prompt_text,
            input_ids,
            rows: r,
            cols: c,
            pixel_values_shape: inputs.pixel_values.dims,
            pixel_attention_mask_shape: inputs.pixel_attention_mask.dims,
            n_image_tokens,
            rescaled: [rw, rh],
            resized: r || c ? [vw, vh] : [tile, tile],
            python_rescaled: py.rescaled,
        });
    }
    const tRun = performance.now();

    // ---- planning sweep vs the Python reference slicing goldens (no images, just sizes)
    let sweep = { total: 0, rowsColsDiffer: [], zeroDim: [], rescaledDiffer: 0, examples: [] };
    if (fs.existsSync(SLICING)) {
        const lines = fs.readFileSync(SLICING, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
        for (const g of lines) {
            if (g.scheme !== 'idefics3' || g.longest_edge !== imageProcessor.size.longest_edge || g.tile !== tile) continue;
            sweep.total++;
            const js = jsPlan(imageProcessor, g.w, g.h);
            if (js.rescaled[0] === 0 || js.rescaled[1] === 0) {
                // transformers.js computes a 0-pixel edge (no clamp to 1) and the processor then throws in sharp.
                sweep.zeroDim.push(`${g.w}x${g.h}`);
                continue;
            }
            if (js.rows !== g.rows || js.cols !== g.cols || js.resized[0] !== g.resized[0] || js.resized[1] !== g.resized[1])
                sweep.rowsColsDiffer.push({ w: g.w, h: g.h, python: [g.rows, g.cols, g.resized], js: [js.rows, js.cols, js.resized] });
            const py = pyPlan(g.w, g.h, g.longest_edge, g.tile);
            if (py.rows !== g.rows || py.cols !== g.cols) throw new Error(`python port disagrees with slicing.jsonl at ${g.w}x${g.h}`);
            if (py.rescaled[0] !== js.rescaled[0] || py.rescaled[1] !== js.rescaled[1]) {
                sweep.rescaledDiffer++;
                if (sweep.examples.length < 6) sweep.examples.push(`${g.w}x${g.h}: js ${js.rescaled} python ${py.rescaled}`);
            }
        }
    }

    let failed = false;
    if (check) {
        const want = rows.map(toJsonLine).join('\n') + '\n';
        const have = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
        console.log(want === have ? 'check: committed goldens are up to date' : 'check: committed goldens DIFFER from regenerated ones');
        failed = want !== have;
    } else {
        const size = writeJsonl(OUT, rows);
        console.log(`wrote ${path.relative(REPO_ROOT, OUT)} (${rows.length} cases, ${(size / 1024).toFixed(1)} KiB)`);
    }

    console.log(`transformers.js ${env.version}, processor ${processor.constructor.name}, image processor ${imageProcessor.constructor.name}`);
    if (rust) console.log(`input_ids == Python-style prompt expansion + Rust tokenizers: ${rustAgree}/${rows.length}`);
    console.log(`sizes covered: ${new Set(rows.map((r) => `${r.width}x${r.height}`)).size}/${SIZES.length}, questions covered: ${new Set(rows.map((r) => r.question)).size}/${QUESTIONS.length}`);
    for (const r of rows.filter((r, i, a) => a.findIndex((x) => x.width === r.width && x.height === r.height) === i)) {
        const diff = r.python_rescaled[0] !== r.rescaled[0] || r.python_rescaled[1] !== r.rescaled[1];
        console.log(
            `  ${`${r.width}x${r.height}`.padEnd(10)} rescaled ${r.rescaled.join('x').padEnd(10)} resized ${r.resized.join('x').padEnd(10)} ` +
                `rows ${r.rows} cols ${r.cols} pixel_values ${JSON.stringify(r.pixel_values_shape)} ids ${r.input_ids.length}` +
                (diff ? `   (python rescale: ${r.python_rescaled.join('x')})` : ''),
        );
    }
    if (sweep.total) {
        console.log(
            `planning sweep vs slicing.jsonl (idefics3, longest_edge ${imageProcessor.size.longest_edge}, tile ${tile}): ${sweep.total} sizes, ` +
                `rows/cols/resized differ: ${sweep.rowsColsDiffer.length}, first-resize size differs: ${sweep.rescaledDiffer}, ` +
                `transformers.js computes a 0-pixel edge (processor throws): ${sweep.zeroDim.length}`,
        );
        if (sweep.zeroDim.length) console.log(`  0-pixel edge, e.g. ${sweep.zeroDim.slice(0, 8).join(' ')}`);
        for (const d of sweep.rowsColsDiffer.slice(0, 10)) console.log(`  rows/cols differ: ${JSON.stringify(d)}`);
        for (const e of sweep.examples) console.log(`  first-resize differs: ${e}`);
    }
    console.log(`time: load ${((tLoad - t0) / 1000).toFixed(2)} s, process ${((tRun - tLoad) / 1000).toFixed(2)} s, total ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    if (failed) process.exitCode = 1;
}

await main();
