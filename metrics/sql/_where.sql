      -- fragment _where: the partner / model / pipeline / source filters of a lead_facts row (lines of a where
      -- clause, spliced in by an include of _where.sql). Parameters: $partners, $models, $pipelines, $sources.
      and (len($partners) = 0 or list_contains($partners, partner_id))
      and (len($models) = 0 or list_contains($models, model))
      and (len($pipelines) = 0 or list_contains($pipelines, pipeline_id))
      and (len($sources) = 0 or list_contains($sources, utm_source) or list_contains($sources, source_name))
