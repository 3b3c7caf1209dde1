import json

import azure.functions as func


def main(req: func.HttpRequest, starter: func.Out[str], res: func.Out[func.HttpResponse]) -> None:
    starter.set(json.dumps([{"functionName": "HelloOrchestrator", "instanceId": req.params["id"]}]))
    res.set(func.HttpResponse("accepted", status_code=202))
