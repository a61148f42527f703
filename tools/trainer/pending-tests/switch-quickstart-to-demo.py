import os
import re
# Moves the quick start to the trained demo model (run once, from anywhere, when the weights are committed).
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..") + "/"
p=root+'src/LlavaUhd.Edge.Service/appsettings.json'
s=open(p).read()
s=s.replace('"Source": ".cache/sample.avi"','"Source": ".cache/sample-parcels.avi"')
s=s.replace('"Model": ".cache/models/tiny-smolvlm"','"Model": ".cache/models/demo-smolvlm"')
s=s.replace('{ "Name": "bench", "Camera": "cam0", "Question": "What is on the conveyor belt?", "Trigger": "interval", "IntervalSeconds": 2 }','{ "Name": "parcels", "Camera": "cam0", "Question": "How many parcels are on the belt?", "Trigger": "interval", "IntervalSeconds": 2 }')
s=s.replace('"MaxNewTokens": 12','"MaxNewTokens": 8')
open(p,'w').write(s)
p=root+'tools/run.sh'
s=open(p).read()
s=s.replace('''# what the embedded defaults need if it is absent (.cache/sample.avi, a looping MJPG sample video as the camera, and
# .cache/models/tiny-smolvlm, a generated test model with random weights), then runs the service with the embedded
# MQTT broker and a standing question every 2 s.''','''# what the embedded defaults need if it is absent (.cache/sample-parcels.avi, a looping MJPG video of parcels on a
# conveyor as the camera, and .cache/models/demo-smolvlm, the trained demo model built from the weights in
# models-quantized/demo-smolvlm/), then runs the service with the embedded MQTT broker and the standing question
# "How many parcels are on the belt?" every 2 s.''')
s=s.replace('''if [[ ! -f .cache/sample.avi ]]; then
    "${cli[@]}" sample --video --size 1280x720 --frames 100 --fps 10 --out .cache/sample.avi
fi
if [[ ! -f .cache/models/tiny-smolvlm/model.json ]]; then
    rm -rf .cache/models/tiny-smolvlm
    "${cli[@]}" models generate --preset tiny-smolvlm --out .cache/models/tiny-smolvlm --seed 7
fi''','''if [[ ! -f .cache/sample-parcels.avi ]]; then
    "${cli[@]}" sample --video --size 1280x720 --frames 100 --fps 10 --out .cache/sample-parcels.avi
fi
# Rebuilt whenever the committed weights change (their sha256 is recorded beside the package).
demo=.cache/models/demo-smolvlm
if [[ ! -f $demo/model.json ]] || ! cmp -s models-quantized/demo-smolvlm/weights.sha256 "$demo/.weights.sha256"; then
    rm -rf "$demo"
    "${cli[@]}" models generate --preset demo-smolvlm --out "$demo"
    cp models-quantized/demo-smolvlm/weights.sha256 "$demo/.weights.sha256"
fi''')
s=s.replace('''#   bash tools/run.sh --Service:Questions:0:IntervalSeconds=5 --Inference:Model=/path/to/package   # any override''','''#   bash tools/run.sh --Service:Questions:0:IntervalSeconds=5 --Inference:Model=/path/to/package   # any override''')
open(p,'w').write(s)
p=root+'device-configs/README.md'
s=open(p).read()
s=s.replace('''(`src/LlavaUhd.Edge.Service/appsettings.json`: `.cache/sample.avi` as camera `cam0`, `.cache/models/tiny-smolvlm`,
   the embedded broker on 127.0.0.1:18830, a standing question every 2 s).''','''(`src/LlavaUhd.Edge.Service/appsettings.json`: `.cache/sample-parcels.avi` as camera `cam0`, the trained demo model
   `.cache/models/demo-smolvlm`, the embedded broker on 127.0.0.1:18830, "How many parcels are on the belt?" every 2 s).''')
s=s.replace('''| `Model` | — | model package folder (`model.json`); the demo uses the generated `.cache/models/tiny-smolvlm` |''','''| `Model` | — | model package folder (`model.json`); the demo uses `.cache/models/demo-smolvlm`, built by `tools/run.sh` from the trained weights (`llava-edge models generate --preset demo-smolvlm`) |''')
open(p,'w').write(s)
