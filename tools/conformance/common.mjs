// Shared helpers for the conformance golden generators.
//
// The real SmolVLM-256M-Instruct tokenizer/processor files live outside the repo in a read-only
// folder (shared/reference/smolvlm-256m-instruct/). transformers.js resolves a model id as
// `${env.localModelPath}/${id}/<file>`, so we copy the needed files into a fresh temp folder with
// exactly that layout and point transformers.js at it. Nothing is ever fetched from a hub.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');

export const MODEL_ID = 'smolvlm-256m-instruct';

export const REFERENCE_FILES = [
    'tokenizer.json',
    'tokenizer_config.json',
    'config.json',
    'preprocessor_config.json',
    'processor_config.json',
    'chat_template.json',
    'special_tokens_map.json',
    'added_tokens.json',
    'generation_config.json',
];

/** Locate the reference folder: $SMOLVLM_REFERENCE_DIR, else the repository's copy (models-quantized/smolvlm-256m-instruct), else a shared/ checkout beside it. */
export function findReferenceDir() {
    const candidates = [
        process.env.SMOLVLM_REFERENCE_DIR,
        path.join(REPO_ROOT, 'models-quantized', MODEL_ID),
        path.join(REPO_ROOT, 'shared', 'reference', MODEL_ID),
        path.join(REPO_ROOT, '..', 'shared', 'reference', MODEL_ID),
    ].filter(Boolean);
    for (const dir of candidates) {
        if (fs.existsSync(path.join(dir, 'tokenizer.json'))) return path.resolve(dir);
    }
    throw new Error(
        `SmolVLM reference files not found; tried:\n  ${candidates.join('\n  ')}\n` +
            'Set SMOLVLM_REFERENCE_DIR to the folder holding tokenizer.json, config.json, ...',
    );
}

/**
 * Copy the reference files into <tmp>/<MODEL_ID>/ and return { root, modelDir, referenceDir }.
 * `root` is what goes into env.localModelPath, MODEL_ID is the model id.
 */
export function stageReferenceFiles() {
    const referenceDir = findReferenceDir();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'llavauhd-conformance-'));
    const modelDir = path.join(root, MODEL_ID);
    fs.mkdirSync(modelDir);
    for (const name of REFERENCE_FILES) {
        const src = path.join(referenceDir, name);
        if (!fs.existsSync(src)) throw new Error(`missing reference file ${src}`);
        fs.copyFileSync(src, path.join(modelDir, name));
        fs.chmodSync(path.join(modelDir, name), 0o644);
    }
    process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
    return { root, modelDir, referenceDir };
}

/** Configure transformers.js for strictly local, offline loading. */
export function configureOffline(env, localRoot) {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = localRoot.endsWith(path.sep) ? localRoot : localRoot + path.sep;
    env.useBrowserCache = false;
    env.useFSCache = false;
}

/**
 * JSON.stringify, plus \u escapes for characters that some line-oriented readers or editors treat
 * as line breaks or silently drop (C1 controls incl. U+0085, U+2028, U+2029, U+FEFF, DEL).
 * JSON.stringify already escapes U+0000-U+001F and lone surrogates.
 */
export function toJsonLine(obj) {
    return JSON.stringify(obj).replace(
        /[\u007f-\u009f\u2028\u2029\ufeff]/g,
        (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
    );
}

export function writeJsonl(file, rows) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, rows.map(toJsonLine).join('\n') + (rows.length ? '\n' : ''), 'utf8');
    return fs.statSync(file).size;
}

/** Small deterministic PRNG (mulberry32). */
export function mulberry32(seed) {
    let a = seed >>> 0;
    return function () {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
